import * as assert from "assert";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { writeDeterministicZip, zipEntryDataOffset } from "../../providers/zip";
import { readZip } from "../support/zipReader";

describe("providers/zip", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "uptycs-zip-"));
    after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const installer = crypto.randomBytes(300_000);
    const entries = (): Parameters<typeof writeDeterministicZip>[0] => [
        { name: "install.sh", content: "#!/bin/sh\necho install\n", mode: 0o755 },
        { name: "uninstall.sh", content: "#!/bin/sh\necho uninstall\n", mode: 0o755 },
        { name: "assets-uptycs-protect-5.14.2.21-Uptycs.x86_64.rpm", stream: Readable.from([installer.subarray(0, 1000), installer.subarray(1000)]), mode: 0o644 },
    ];

    it("a streamed entry is stored: its bytes stand in the zip at the offset the central directory gives", async () => {
        const file = path.join(tmp, "a.zip");
        const zip = await writeDeterministicZip(entries(), file);
        const bytes = fs.readFileSync(file);
        assert.strictEqual(zip.size, bytes.length);
        assert.strictEqual(zip.sha256, crypto.createHash("sha256").update(bytes).digest("hex"));
        const offset = await zipEntryDataOffset(file, "assets-uptycs-protect-5.14.2.21-Uptycs.x86_64.rpm");
        assert.ok(bytes.subarray(offset, offset + installer.length).equals(installer));
        const read = await readZip(file);
        assert.deepStrictEqual(read.map((e) => e.name), ["assets-uptycs-protect-5.14.2.21-Uptycs.x86_64.rpm", "install.sh", "uninstall.sh"]);
        await assert.rejects(zipEntryDataOffset(file, "missing.rpm"), /has no entry missing\.rpm/);
    });

    it("byte-deterministic whatever the chunking of the streamed entry", async () => {
        const a = await writeDeterministicZip(entries(), path.join(tmp, "b.zip"));
        const chunked = entries().map((e) => ("stream" in e ? { ...e, stream: Readable.from(Array.from({ length: 30 }, (_, i) => installer.subarray(i * 10_000, (i + 1) * 10_000))) } : e));
        const b = await writeDeterministicZip(chunked, path.join(tmp, "c.zip"));
        assert.strictEqual(a.sha256, b.sha256);
    });

    it("an error of the streamed entry fails the write", async () => {
        const broken = new Readable({ read(): void { this.destroy(new Error("connection reset")); } });
        await assert.rejects(writeDeterministicZip([{ name: "x.rpm", stream: broken, mode: 0o644 }], path.join(tmp, "d.zip")), /connection reset/);
    });
});
