/**
 * The coverage report in words: a plain-text table for a terminal and a Markdown summary fit for
 * `$GITHUB_STEP_SUMMARY`. Per region and platform the counts and the coverage, then the nodes
 * behind every count but `current` (the first {@link LISTED_NODES} of each; `--json` has all),
 * then the assets no managed node accounts for. Pure functions.
 */
import { CoverageCounts, CoverageReport, CoverageStatus, NodeCoverage, RegionCoverage, STATUSES, UnmatchedAsset } from "./coverage";

/** Nodes listed per status and region in the text and Markdown reports. */
export const LISTED_NODES = 20;

const COLUMNS: readonly [string, keyof CoverageCounts][] = [
    ["in scope", "inScope"], ["current", "current"], ["other-version", "otherVersion"], ["silent", "silent"],
    ["failed", "failed"], ["no-agent", "noAgent"], ["offline", "offline"],
];

/** Rows of a region's table: each platform, then `all`. */
function tableRows(region: RegionCoverage): string[][] {
    const row = (name: string, counts: CoverageCounts, percent: number): string[] => [name, ...COLUMNS.map(([, k]) => String(counts[k])), `${percent.toFixed(1)}%`];
    return [
        ...Object.entries(region.platforms).map(([p, x]) => row(p, x.counts, x.coveragePercent)),
        row("all", region.counts, region.coveragePercent),
    ];
}

const HEADER = ["platform", ...COLUMNS.map(([h]) => h), "coverage"];

/** The non-current nodes of a region by status, in report order. */
function nodesByStatus(region: RegionCoverage): [CoverageStatus, NodeCoverage[]][] {
    return STATUSES.filter((s) => s !== "current")
        .map((s): [CoverageStatus, NodeCoverage[]] => [s, region.nodes.filter((n) => n.status === s)])
        .filter(([, nodes]) => nodes.length > 0);
}

function regionTitle(name: string, region: RegionCoverage): string {
    return `${name}: ${region.association === undefined ? "every managed node (no fleet association)" : `targets of association ${region.association}`}, `
        + `fleet at ${region.fleetVersion}, inventory ${region.inventory ? "gathered" : "not gathered"}`;
}

function assetLine(a: UnmatchedAsset): string {
    return `${a.hostName}  ${a.agentVersion ?? "?"} ${a.build}  last reported ${a.lastActivityAt ?? "never"}`;
}

/** The report as plain text: aligned tables, node lists, unmatched assets. */
export function renderText(report: CoverageReport): string {
    const out: string[] = [
        `Coverage of ${report.package} ${report.fleetVersion} (${report.build}) at ${report.generatedAt}; an asset is silent after ${report.staleAfterMinutes} min`,
    ];
    for (const [name, region] of Object.entries(report.regions)) {
        out.push("", regionTitle(name, region));
        const rows = [HEADER, ...tableRows(region)];
        const widths = HEADER.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
        rows.forEach((r) => out.push(`  ${r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")}`));
        if (region.counts.inScope === 0) {
            out.push("  no managed node in scope: check the association's targets");
        }
        for (const [status, nodes] of nodesByStatus(region)) {
            out.push(`  ${status} (${nodes.length}):`);
            nodes.slice(0, LISTED_NODES).forEach((n) => out.push(`    ${n.instanceId}  ${n.computerName}  ${n.platform}  ${n.detail ?? ""}`.trimEnd()));
            if (nodes.length > LISTED_NODES) {
                out.push(`    … and ${nodes.length - LISTED_NODES} more (--json lists every node)`);
            }
        }
    }
    out.push("", `Assets of the asset group no managed node accounts for: ${report.unmatchedAssets.length}`);
    report.unmatchedAssets.slice(0, LISTED_NODES).forEach((a) => out.push(`  ${assetLine(a)}`));
    if (report.unmatchedAssets.length > LISTED_NODES) {
        out.push(`  … and ${report.unmatchedAssets.length - LISTED_NODES} more (--json lists every asset)`);
    }
    return `${out.join("\n")}\n`;
}

/** Markdown cell text: pipes and line breaks would end the cell. */
const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/[\r\n]+/g, " ");

/** The report as GitHub-flavoured Markdown, for `$GITHUB_STEP_SUMMARY`. */
export function renderMarkdown(report: CoverageReport, minPercent?: number): string {
    const out: string[] = [
        `## Uptycs agent coverage: ${cell(report.package)} ${report.fleetVersion} (${report.build})`,
        "",
        `${report.generatedAt}; an asset is silent after ${report.staleAfterMinutes} min${minPercent === undefined ? "" : `; minimum coverage ${minPercent}%`}.`,
    ];
    for (const [name, region] of Object.entries(report.regions)) {
        const below = minPercent !== undefined && region.coveragePercent < minPercent;
        out.push("", `### ${name}: ${region.coveragePercent.toFixed(1)}%${below ? " (below the minimum)" : ""}`, "", cell(regionTitle(name, region)), "");
        out.push(`| ${HEADER.join(" | ")} |`, `|${HEADER.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`);
        tableRows(region).forEach((r) => out.push(`| ${r.map(cell).join(" | ")} |`));
        for (const [status, nodes] of nodesByStatus(region)) {
            out.push("", `<details><summary>${status}: ${nodes.length}</summary>`, "", "| instance | host | platform | detail |", "| --- | --- | --- | --- |");
            nodes.slice(0, LISTED_NODES).forEach((n) => out.push(`| ${n.instanceId} | ${cell(n.computerName)} | ${n.platform} | ${cell(n.detail ?? "")} |`));
            if (nodes.length > LISTED_NODES) {
                out.push("", `… and ${nodes.length - LISTED_NODES} more (the JSON report lists every node).`);
            }
            out.push("", "</details>");
        }
    }
    out.push("", `### Assets no managed node accounts for: ${report.unmatchedAssets.length}`);
    if (report.unmatchedAssets.length > 0) {
        out.push("", "| host | agent | last reported |", "| --- | --- | --- |");
        report.unmatchedAssets.slice(0, LISTED_NODES).forEach((a) => out.push(`| ${cell(a.hostName)} | ${a.agentVersion ?? "?"} ${a.build} | ${a.lastActivityAt ?? "never"} |`));
        if (report.unmatchedAssets.length > LISTED_NODES) {
            out.push("", `… and ${report.unmatchedAssets.length - LISTED_NODES} more.`);
        }
    }
    return `${out.join("\n")}\n`;
}
