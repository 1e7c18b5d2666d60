/**
 * Byte-deterministic zips: fixed entry order, times and modes, so equal content gives an equal
 * sha256 on every machine and time zone, and Distributor sees no change where there is none.
 * Runs inside the serialized dynamic provider: node modules are required inside the function.
 */

import { writeHashed } from "./buildFolder";

/** One zip entry: text content or a file streamed from disk. */
export type ZipEntry =
    | { readonly name: string; readonly content: string; readonly mode: number }
    | { readonly name: string; readonly file: string; readonly mode: number };

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
 * deflated; file entries are stored (installers are already compressed, and storing keeps the
 * build at disk speed). Memory stays flat: files are streamed.
 */
export async function writeDeterministicZip(entries: readonly ZipEntry[], dest: string): Promise<ZipResult> {
    const archiver: typeof import("archiver") = require("archiver");
    const fs: typeof import("fs") = require("fs");
    const archive = archiver("zip", { zlib: { level: 9 } });
    const written = writeHashed(archive, dest);
    const date = new Date(ZIP_ENTRY_DATE_MS);
    for (const e of [...entries].sort((a, b) => (a.name < b.name ? -1 : 1))) {
        if ("content" in e) {
            archive.append(e.content, { name: e.name, date, mode: e.mode });
        } else {
            archive.append(fs.createReadStream(e.file), { name: e.name, date, mode: e.mode, store: true });
        }
    }
    const [, result] = await Promise.all([archive.finalize(), written]);
    return result;
}
