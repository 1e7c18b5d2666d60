/**
 * Byte-deterministic zips: fixed entry order, times and modes, so equal content gives an equal
 * sha256 on every machine and time zone, and Distributor sees no change where there is none.
 * Runs inside the serialized dynamic provider: node modules are required inside the function.
 */

import { writeHashed } from "./buildFolder";

/** One zip entry: text content, or bytes streamed (from disk, or as they arrive) and stored. */
export type ZipEntry =
    | { readonly name: string; readonly content: string; readonly mode: number }
    | { readonly name: string; readonly stream: NodeJS.ReadableStream; readonly mode: number };

/** Entry time written to every zip: 1980-01-01T00:00:00Z, the earliest DOS time. */
export const ZIP_ENTRY_DATE_MS = Date.UTC(1980, 0, 1);

/** Size and hash of a written zip. */
export interface ZipResult {
    /** Bytes. */
    readonly size: number;
    /** Hex sha256 of the zip. */
    readonly sha256: string;
}

/**
 * Writes `entries` (in name order) to `dest` and returns its size and sha256. Text entries are
 * deflated; stream entries are stored (installers are already compressed, and storing keeps the
 * build at the network's or disk's speed), their CRC-32 computed as they pass. Memory stays
 * flat: archiver buffers up to 1 MB per stage by default, which made the provider host's memory
 * grow with concurrent downloads; 64 KB keeps it flat. An error of a stream entry fails the write.
 */
export async function writeDeterministicZip(entries: readonly ZipEntry[], dest: string): Promise<ZipResult> {
    const archiver: typeof import("archiver") = require("archiver");
    const archive = archiver("zip", { zlib: { level: 9 }, highWaterMark: 64 * 1024 });
    const written = writeHashed(archive, dest);
    const date = new Date(ZIP_ENTRY_DATE_MS);
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if ("content" in e) {
            archive.append(e.content, { name: e.name, date, mode: e.mode });
        } else {
            e.stream.once("error", (err: Error) => archive.destroy(err));
            archive.append(e.stream as import("stream").Readable, { name: e.name, date, mode: e.mode, store: true });
        }
    }
    void archive.finalize().catch(() => undefined);
    return written;
}

/**
 * Where the bytes of entry `name` start in `zipFile` (read from its central directory and the
 * entry's local header: a few hundred bytes, whatever the zip's size; the end record is its last
 * 22 bytes, as this module writes no zip comment).
 * @throws Error when the zip has no such entry or is not a zip this module wrote.
 */
export async function zipEntryDataOffset(zipFile: string, name: string): Promise<number> {
    const fs: typeof import("fs") = require("fs");
    const handle = await fs.promises.open(zipFile, "r");
    try {
        const { size } = await handle.stat();
        const read = async (position: number, length: number): Promise<Buffer> => {
            const buf = Buffer.alloc(length);
            const { bytesRead } = await handle.read(buf, 0, length, position);
            return buf.subarray(0, bytesRead);
        };
        const eocd = await read(size - 22, 22);
        if (eocd.readUInt32LE(0) !== 0x06054b50) {
            throw new Error(`${zipFile} has no zip end record`);
        }
        const directory = await read(eocd.readUInt32LE(16), eocd.readUInt32LE(12));
        for (let at = 0; at + 46 <= directory.length;) {
            const nameLength = directory.readUInt16LE(at + 28);
            const entryName = directory.subarray(at + 46, at + 46 + nameLength).toString("utf8");
            if (entryName === name) {
                const local = directory.readUInt32LE(at + 42);
                const header = await read(local, 30);
                return local + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
            }
            at += 46 + nameLength + directory.readUInt16LE(at + 30) + directory.readUInt16LE(at + 32);
        }
        throw new Error(`${zipFile} has no entry ${name}`);
    } finally {
        await handle.close();
    }
}
