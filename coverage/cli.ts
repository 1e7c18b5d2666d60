/**
 * `npm run coverage -- [options]`: which managed nodes of the stack's fleet run the published
 * agent, which run another or none, and which never reported to Uptycs; and the tenant's assets
 * no managed node accounts for. Reads the stack outputs, SSM (the SDK's credential chain,
 * `--profile`, its standard endpoint variables) and the Uptycs tenant (`GET /assets`, the same
 * client and Retry-After handling as the installer downloads). Exit 0; 2 when a region's coverage
 * is below `--min-coverage`; 1 on an error, named by region, SSM action or Uptycs endpoint.
 */
import * as fs from "fs";
import { parseArgs } from "util";
import { SSMClient } from "@aws-sdk/client-ssm";
import {
    AssetIndex, assetFromApi, classifyRegion, CoverageReport, RegionCoverage, RegionFacts, regionsBelow, UptycsAsset, unmatchedAssets,
} from "../platforms/coverage";
import { renderMarkdown, renderText } from "../platforms/coverageReport";
import { DEFAULT_REQUEST_POLICY, getAssetGroupId, listAssets, parseApiKey, tenantOf, UptycsApiKey } from "../providers/uptycsApi";
import { readRegionFleet } from "./ssmFleet";
import { readStackOutputs } from "./stackOutputs";

/** Default of `--stale-after`, minutes. */
export const DEFAULT_STALE_AFTER_MINUTES = 60;

/** Exit codes. */
export const EXIT = Object.freeze({ ok: 0, error: 1, belowMinimum: 2 });

export const USAGE = `usage: npm run coverage -- [options]
  --outputs <file>         the stack outputs (pulumi stack output --json > file); default: run that command
  --stack <name>           the stack whose outputs to read (without --outputs)
  --api-key-file <file>    the Uptycs API key file; default: its JSON in UPTYCS_API_KEY
  --profile <name>         the AWS profile; default: the SDK's credential chain
  --region <region>        a region of the stack (repeatable); default: every region it publishes in
  --stale-after <minutes>  an asset silent for longer is 'silent' (default ${DEFAULT_STALE_AFTER_MINUTES})
  --min-coverage <percent> exit 2 when a region's coverage (current / in scope) is lower
  --json                   the whole report as JSON (every node)
  --markdown               a summary for $GITHUB_STEP_SUMMARY
`;

/** Where the command writes, and what it reads of its process. */
export interface CoverageIo {
    readonly stdout: (text: string) => void;
    readonly stderr: (text: string) => void;
    readonly env: NodeJS.ProcessEnv;
    /** Epoch milliseconds: the report's time. */
    readonly now: () => number;
}

/** The options, checked. */
interface CoverageOptions {
    readonly outputs?: string;
    readonly stack?: string;
    readonly apiKeyFile?: string;
    readonly profile?: string;
    readonly regions: readonly string[];
    readonly staleAfterMinutes: number;
    readonly minCoverage?: number;
    readonly format: "text" | "json" | "markdown";
}

/**
 * The options, checked; undefined for `--help`.
 * @throws Error naming the option: a usage error (exit 1 with the usage).
 */
function parseOptions(argv: string[]): CoverageOptions | undefined {
    const { values } = parseArgs({
        args: argv, strict: true, allowPositionals: false, options: {
            outputs: { type: "string" }, stack: { type: "string" }, "api-key-file": { type: "string" }, profile: { type: "string" },
            region: { type: "string", multiple: true }, "stale-after": { type: "string" }, "min-coverage": { type: "string" },
            json: { type: "boolean" }, markdown: { type: "boolean" }, help: { type: "boolean" },
        },
    });
    if (values.help === true) {
        return undefined;
    }
    const number = (name: string, text: string | undefined, min: number, max: number): number | undefined => {
        if (text === undefined) {
            return undefined;
        }
        const n = Number(text);
        if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
            throw new Error(`--${name} must be a number from ${min} to ${max}, got '${text}'`);
        }
        return n;
    };
    if (values.json === true && values.markdown === true) {
        throw new Error("--json and --markdown: choose one");
    }
    if (values.outputs !== undefined && values.stack !== undefined) {
        throw new Error("--outputs and --stack: choose one (--stack runs pulumi stack output for that stack)");
    }
    return {
        outputs: values.outputs, stack: values.stack, apiKeyFile: values["api-key-file"], profile: values.profile, regions: values.region ?? [],
        staleAfterMinutes: number("stale-after", values["stale-after"], 1, 525_600) ?? DEFAULT_STALE_AFTER_MINUTES,
        minCoverage: number("min-coverage", values["min-coverage"], 0, 100),
        format: values.json === true ? "json" : values.markdown === true ? "markdown" : "text",
    };
}

/** The Uptycs key: `--api-key-file`, else `UPTYCS_API_KEY` (the key file's JSON, as a CI secret holds it). */
async function apiKeyOf(options: CoverageOptions, env: NodeJS.ProcessEnv): Promise<UptycsApiKey> {
    if (options.apiKeyFile !== undefined) {
        let text: string;
        try {
            text = await fs.promises.readFile(options.apiKeyFile, "utf8");
        } catch (e) {
            throw new Error(`--api-key-file ${options.apiKeyFile} cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
        }
        return parseApiKey(text, `--api-key-file ${options.apiKeyFile}`);
    }
    const text = env.UPTYCS_API_KEY;
    if (text === undefined || text.trim() === "") {
        throw new Error("no Uptycs key: pass --api-key-file <file> or put the key file's JSON in UPTYCS_API_KEY");
    }
    return parseApiKey(text, "UPTYCS_API_KEY");
}

/** The assets of the package's asset group (the tenant's `assets` object group, the one the installers enroll into). */
async function readAssets(apiKey: UptycsApiKey, log: (line: string) => void): Promise<UptycsAsset[]> {
    try {
        const group = await getAssetGroupId(apiKey, DEFAULT_REQUEST_POLICY);
        const assets = await listAssets(apiKey, DEFAULT_REQUEST_POLICY, (item) => {
            const a = assetFromApi(item);
            return a !== undefined && (a.objectGroupId === undefined || a.objectGroupId === group) ? a : undefined;
        }, (n) => log(`Uptycs ${tenantOf(apiKey)}: ${n} assets read`));
        log(`Uptycs ${tenantOf(apiKey)}: ${assets.length} assets in the asset group`);
        return assets;
    } catch (e) {
        throw new Error(`Uptycs API: ${(e as Error).message}`);
    }
}

/** The report, read and classified. */
async function buildReport(options: CoverageOptions, io: CoverageIo): Promise<CoverageReport> {
    const log = (line: string): void => io.stderr(`${line}\n`);
    const stack = await readStackOutputs(options.outputs, options.stack);
    const regions = options.regions.length > 0 ? [...new Set(options.regions)] : Object.keys(stack.regions);
    const unknown = regions.filter((r) => stack.regions[r] === undefined);
    if (unknown.length > 0) {
        throw new Error(`--region ${unknown.join(", ")}: not a region of the stack (its regions output: ${Object.keys(stack.regions).join(", ")})`);
    }
    const apiKey = await apiKeyOf(options, io.env);
    const readFleet = async (region: string): Promise<RegionFacts> => {
        const client = new SSMClient({ region, ...(options.profile === undefined ? {} : { profile: options.profile }) });
        try {
            return await readRegionFleet(client, region, stack.regions[region].fleetAssociation, log);
        } finally {
            client.destroy();
        }
    };
    // Every read ends before the report does, failed or not: no request outlives the command's answer.
    const [assetsRead, ...fleetsRead] = await Promise.allSettled([readAssets(apiKey, log), ...regions.map(readFleet)]);
    const failure = [assetsRead, ...fleetsRead].find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failure !== undefined) {
        throw failure.reason;
    }
    const assets = (assetsRead as PromiseFulfilledResult<UptycsAsset[]>).value;
    const fleets = fleetsRead.map((r) => (r as PromiseFulfilledResult<RegionFacts>).value);
    const index = new AssetIndex(assets);
    const accounted = new Set<string>();
    const now = io.now();
    const byRegion: Record<string, RegionCoverage> = {};
    regions.forEach((region, i) => {
        const fleet = { agentVersion: stack.regions[region].fleetVersion, build: stack.build, staleAfterMinutes: options.staleAfterMinutes, now };
        byRegion[region] = classifyRegion(fleets[i], index, fleet, accounted);
    });
    return {
        generatedAt: new Date(now).toISOString(), package: stack.packageName, fleetVersion: stack.agentVersion, build: stack.build,
        staleAfterMinutes: options.staleAfterMinutes, regions: byRegion, unmatchedAssets: unmatchedAssets(assets, accounted),
    };
}

/** Runs the command: writes the report and returns the exit code. */
export async function main(argv: string[], io: CoverageIo): Promise<number> {
    let options: CoverageOptions | undefined;
    try {
        options = parseOptions(argv);
    } catch (e) {
        io.stderr(`coverage: ${(e as Error).message}\n${USAGE}`);
        return EXIT.error;
    }
    if (options === undefined) {
        io.stdout(USAGE);
        return EXIT.ok;
    }
    let report: CoverageReport;
    try {
        report = await buildReport(options, io);
    } catch (e) {
        io.stderr(`coverage: ${(e as Error).message}\n`);
        return EXIT.error;
    }
    io.stdout(options.format === "json" ? `${JSON.stringify(report, null, 2)}\n` : options.format === "markdown" ? renderMarkdown(report, options.minCoverage) : renderText(report));
    const below = options.minCoverage === undefined ? [] : regionsBelow(report, options.minCoverage);
    if (below.length > 0) {
        io.stderr(`coverage: below ${options.minCoverage}% in ${below.map((r) => `${r} (${report.regions[r].coveragePercent.toFixed(1)}%)`).join(", ")}\n`);
        return EXIT.belowMinimum;
    }
    return EXIT.ok;
}

if (require.main === module) {
    void main(process.argv.slice(2), {
        stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t), env: process.env, now: () => Date.now(),
    }).then((code) => {
        process.exitCode = code;
    });
}
