import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { sha256Hex } from "../../platforms/digest";
import { parseAgentMapping, validateAgentMapping, validateAgentMappingEntry, validateArtifactEntry, versionKey } from "../../platforms/mapping";

const PLATFORMS = path.join(__dirname, "..", "..", "platforms");
const read = (name: string): string => fs.readFileSync(path.join(PLATFORMS, name), "utf8");
const entry = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
    upt_package: "centos", id: "rhel", dir: "UPT_PRO_REDHAT_x86_64", name: "redhat", major_version: "_any", minor_version: "", arch_type: "x86_64", ...over,
});

describe("platforms/mapping", () => {
    it("accepts the original 8-entry mapping file as shipped by Uptycs", () => {
        const original = read("uptycs-agent-mapping.original.json");
        // The sha256 of Uptycs' original file, byte for byte: the shipped copy is that file, unedited.
        assert.strictEqual(sha256Hex(original), "a45f31c01719bf029e2a91ea0fbc45c31e435d40cfea960097d5494963757bf9");
        assert.strictEqual(parseAgentMapping(original, "original").length, 8);
    });

    it("default mapping keeps the original 8 entries and covers every platform Uptycs serves", () => {
        const original = parseAgentMapping(read("uptycs-agent-mapping.original.json"), "original");
        const entries = parseAgentMapping(read("uptycs-agent-mapping.json"), "default");
        for (const o of original) {
            assert.deepStrictEqual(entries.find((e) => e.dir === o.dir), o, o.dir);
        }
        const targets = entries.map((e) => `${e.name}/${e.arch_type}`).sort();
        assert.deepStrictEqual(targets, [
            "almalinux/arm64", "almalinux/x86_64", "amazon/arm64", "amazon/x86_64", "centos/x86_64", "debian/x86_64",
            "opensuse/x86_64", "opensuseleap/x86_64", "oracle/x86_64", "redhat/arm64", "redhat/x86_64", "rocky/arm64",
            "rocky/x86_64", "suse/x86_64", "ubuntu/arm64", "ubuntu/x86_64", "windows/x86_64",
        ]);
        assert.ok(entries.every((e) => versionKey(e) === "_any"));
    });

    it("an artifact checks what its zip is built from (upt_package, dir, arch_type), not where the entry goes in the manifest", () => {
        assert.deepStrictEqual(validateArtifactEntry(entry({ name: "plan9", major_version: "x" }), "entry"), entry({ name: "plan9", major_version: "x" }));
        assert.throws(() => validateArtifactEntry(entry({ dir: "../x" }), "entry"), /^Error: entry\.dir must match pattern/);
        assert.throws(() => validateArtifactEntry(entry({ arch_type: "386" }), "entry"), /entry\.arch_type must be equal to one of the allowed values \(x86_64, arm64\)/);
        assert.throws(() => validateArtifactEntry({ dir: "D", arch_type: "arm64" }, "entry"), /entry must have required property 'upt_package'/);
    });

    it("version keys: _any, major, major.minor", () => {
        assert.strictEqual(versionKey(entry() as never), "_any");
        assert.strictEqual(versionKey(entry({ major_version: "8" }) as never), "8");
        assert.strictEqual(versionKey(entry({ major_version: "8", minor_version: "6" }) as never), "8.6");
    });

    const bad: [string, Record<string, unknown>, RegExp][] = [
        ["unknown upt_package", { upt_package: "alpine" }, /upt_package must be equal to one of the allowed values \(centos, debian, windows\)/],
        ["unknown platform", { name: "gentoo" }, /\.name must be equal to one of the allowed values/],
        ["unknown arch", { arch_type: "386" }, /arch_type must be equal to one of the allowed values/],
        ["arch the platform lacks", { name: "oracle", arch_type: "arm64" }, /platform 'oracle' has no arch 'arm64'/],
        ["family mismatch", { upt_package: "debian" }, /upt_package 'debian' does not serve platform 'redhat'/],
        ["unsafe dir", { dir: "../etc" }, /\.dir must match pattern/],
        ["missing dir", { dir: undefined }, /must have required property 'dir'/],
        ["bad major version", { major_version: "eight" }, /major_version must match pattern/],
    ];
    for (const [what, over, message] of bad) {
        it(`rejects an entry with ${what}, naming it`, () => {
            const e = entry(over);
            if (over.dir === undefined && "dir" in over) {
                delete e.dir;
            }
            assert.throws(() => validateAgentMappingEntry(e, "mappingFile linux[0]"), (err: Error) => message.test(err.message) && err.message.includes("mappingFile linux[0]"));
        });
    }

    it("rejects duplicate dir, duplicate targets, empty lists, over 20 entries, missing lists, bad JSON", () => {
        assert.throws(() => validateAgentMapping({ linux: [entry(), entry({ arch_type: "arm64" })], windows: [] }, "m"), /duplicate dir 'UPT_PRO_REDHAT_x86_64'/);
        assert.throws(() => validateAgentMapping({ linux: [entry(), entry({ dir: "OTHER" })], windows: [] }, "m"), /both target redhat\/_any\/x86_64/);
        assert.throws(() => validateAgentMapping({ linux: [], windows: [] }, "m"), /no entries/);
        const many = Array.from({ length: 21 }, (_, i) => entry({ dir: `D${i}`, major_version: String(i) }));
        assert.throws(() => validateAgentMapping({ linux: many, windows: [] }, "m"), /21 entries, but a Distributor package version holds at most 20 files/);
        assert.throws(() => validateAgentMapping({ linux: [entry()] }, "m"), /must have required property 'windows'/);
        assert.throws(() => parseAgentMapping("{", "m.json"), /m\.json: not valid JSON/);
    });

    it("requires an _any key for every platform/arch (prefix matching of version keys is unreliable)", () => {
        assert.throws(() => validateAgentMapping({ linux: [entry({ major_version: "8" })], windows: [] }, "m"), /redhat\/x86_64 has no '_any' entry/);
        assert.strictEqual(validateAgentMapping({ linux: [entry(), entry({ dir: "R8", major_version: "8" })], windows: [] }, "m").length, 2);
    });
});
