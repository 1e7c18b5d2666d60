import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { buildManifest, DistributorManifest, manifestJson, manifestProblems, PackageZip } from "../../platforms/manifest";
import { parseAgentMapping } from "../../platforms/mapping";

const entries = parseAgentMapping(fs.readFileSync(path.join(__dirname, "..", "..", "platforms", "uptycs-agent-mapping.json"), "utf8"), "default");
const zipsFor = (salt: string): PackageZip[] => entries.map((entry, i) => ({
    entry, zipFileName: `${entry.dir}-5.14.2.21-${salt}${i}.zip`, zipSha256: (salt + i).padEnd(64, "0").replace(/[^0-9a-f]/g, "a"), zipSize: 1000 + i,
}));

describe("platforms/manifest", () => {
    it("maps every platform/_any/arch to its zip and lists every zip with its sha256", () => {
        const zips = zipsFor("a");
        const m = buildManifest(zips, { agentVersion: "5.14.2.21", sensorOnly: false });
        assert.strictEqual(m.schemaVersion, "2.0");
        assert.strictEqual(m.publisher, "Uptycs");
        assert.match(m.version, /^5\.14\.2\.21-[0-9a-f]{8}$/);
        assert.strictEqual(m.packages.amazon._any.arm64.file, zips.find((z) => z.entry.dir === "UPT_PRO_AMAZON2_ARM64")!.zipFileName);
        assert.strictEqual(m.packages.windows._any.x86_64.file, zips.find((z) => z.entry.dir === "UPT_PRO_WINDOWS")!.zipFileName);
        assert.strictEqual(Object.keys(m.files).length, 17);
        for (const z of zips) {
            assert.strictEqual(m.files[z.zipFileName].checksums.sha256, z.zipSha256);
        }
        assert.deepStrictEqual(manifestProblems(m), []);
    });

    it("is byte-identical whatever the order of the zips, with sorted keys", () => {
        const a = manifestJson(buildManifest(zipsFor("a"), { agentVersion: "5.14.2.21", sensorOnly: false }));
        const b = manifestJson(buildManifest([...zipsFor("a")].reverse(), { agentVersion: "5.14.2.21", sensorOnly: false }));
        assert.strictEqual(a, b);
        const parsed = JSON.parse(a) as DistributorManifest;
        assert.deepStrictEqual(Object.keys(parsed.packages), [...Object.keys(parsed.packages)].sort());
        assert.ok(a.endsWith("}\n"));
    });

    it("changes the VersionName whenever content changes, never otherwise", () => {
        const v = (zips: PackageZip[], sensorOnly: boolean): string => buildManifest(zips, { agentVersion: "5.14.2.21", sensorOnly }).version;
        const base = v(zipsFor("a"), false);
        assert.strictEqual(v(zipsFor("a"), false), base);
        assert.notStrictEqual(v(zipsFor("a"), true), base, "sensor-only switch");
        assert.notStrictEqual(v(zipsFor("b"), false), base, "other zips");
        assert.ok(base.startsWith("5.14.2.21-"));
    });

    it("reports every Distributor rule a manifest breaks", () => {
        const good = buildManifest(zipsFor("a"), { agentVersion: "5.14.2.21", sensorOnly: false });
        const broken: DistributorManifest = {
            ...good,
            version: "5.14 beta",
            packages: { ...good.packages, gentoo: { _any: { x86_64: { file: "g.zip" } } }, oracle: { "8": { arm64: { file: "missing.zip" } } } },
            files: { ...good.files, "unused.zip": { checksums: { sha256: "xyz" } } },
        };
        const problems = manifestProblems(broken).join("\n");
        assert.match(problems, /version '5.14 beta' does not match/);
        assert.match(problems, /unknown platform 'gentoo'/);
        assert.match(problems, /platform 'oracle' has no '_any' version key/);
        assert.match(problems, /oracle\/8: arch 'arm64' is not allowed/);
        assert.match(problems, /file 'missing.zip' is not listed in files/);
        assert.match(problems, /file 'unused.zip' has no valid sha256/);
        assert.match(problems, /file 'unused.zip' is listed but no platform uses it/);
        assert.throws(() => buildManifest([], { agentVersion: "5.14.2.21", sensorOnly: false }), /manifest is invalid: no files/);
        const big = zipsFor("a").map((z, i) => (i === 3 ? { ...z, zipSize: 1024 ** 3 + 1 } : z));
        assert.throws(() => buildManifest(big, { agentVersion: "5.14.2.21", sensorOnly: false }), /-a3\.zip is 1073741825 bytes, over the 1073741824-byte limit/);
        assert.doesNotThrow(() => buildManifest(zipsFor("a").map((z) => ({ ...z, zipSize: 1024 ** 3 })), { agentVersion: "5.14.2.21", sensorOnly: false }));
    });
});
