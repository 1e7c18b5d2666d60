// Reads a zip the way an unzip tool would (yauzl), for checking what the provider wrote.
import * as yauzl from "yauzl";

export interface ZipContent {
    readonly name: string;
    readonly mode: number;
    readonly data: Buffer;
}

/** Every entry of `file`, in archive order, with its unix mode and bytes. */
export function readZip(file: string): Promise<ZipContent[]> {
    return new Promise((resolve, reject) => {
        yauzl.open(file, { lazyEntries: true }, (err, zip) => {
            if (err || !zip) {
                return reject(err);
            }
            const out: ZipContent[] = [];
            zip.on("error", reject);
            zip.on("end", () => resolve(out));
            zip.on("entry", (entry: yauzl.Entry) => {
                zip.openReadStream(entry, (e, stream) => {
                    if (e || !stream) {
                        return reject(e);
                    }
                    const chunks: Buffer[] = [];
                    stream.on("data", (c: Buffer) => chunks.push(c));
                    stream.on("end", () => {
                        out.push({ name: entry.fileName, mode: (entry.externalFileAttributes >>> 16) & 0o777, data: Buffer.concat(chunks) });
                        zip.readEntry();
                    });
                });
            });
            zip.readEntry();
        });
    });
}
