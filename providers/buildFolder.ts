/**
 * The local build folder: a content-addressed cache shared by every stack of a checkout.
 *
 * Layout under `buildDir` (default `build/`, git-ignored):
 * - `installers/<upt_package>-<arch>-<protect|sensor>-<version>/<installer>` and `installer.json`
 *   (file name, size, sha256) written last, so a folder without it is never trusted;
 * - `zips/<dir>-<version>-<12 hex of the zip's sha256>.zip`.
 * Writes go to `*.part-<pid>` files renamed into place; parts of dead processes are removed.
 * Runs inside the serialized dynamic provider: node modules are required inside the functions.
 */

/** Hex sha256 of a file, streamed. Rejects when the file cannot be read. */
export async function sha256File(file: string): Promise<string> {
    const fs: typeof import("fs") = require("fs");
    const crypto: typeof import("crypto") = require("crypto");
    const hash = crypto.createHash("sha256");
    for await (const chunk of fs.createReadStream(file)) {
        hash.update(chunk as Buffer);
    }
    return hash.digest("hex");
}

/** Hex sha256 of a file, or undefined when it does not exist. */
export async function sha256FileIfExists(file: string): Promise<string | undefined> {
    const fs: typeof import("fs") = require("fs");
    return fs.existsSync(file) ? sha256File(file) : undefined;
}

/**
 * Streams `source` into `file`, hashing on the way (memory stays flat); `onChunk` runs per chunk,
 * e.g. to reset an idle timer. Resolves with the bytes written and their hex sha256.
 */
export async function writeHashed(source: NodeJS.ReadableStream, file: string, onChunk: () => void = () => undefined): Promise<{ size: number; sha256: string }> {
    const fs: typeof import("fs") = require("fs");
    const crypto: typeof import("crypto") = require("crypto");
    const { pipeline }: typeof import("stream/promises") = require("stream/promises");
    const hash = crypto.createHash("sha256");
    let size = 0;
    await pipeline(source, async function* (chunks: AsyncIterable<Buffer | string>) {
        for await (const chunk of chunks) {
            const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
            onChunk();
            hash.update(bytes);
            size += bytes.length;
            yield bytes;
        }
    }, fs.createWriteStream(file));
    return { size, sha256: hash.digest("hex") };
}

/** A temporary file name in `dir` owned by this process. */
export function partFile(dir: string, base: string): string {
    const path: typeof import("path") = require("path");
    return path.join(dir, `${base}.part-${process.pid}`);
}

function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

/**
 * Creates `dir` and removes the `*.part-<pid>` files of processes that no longer run (a killed
 * `pulumi up`), so they are never mistaken for content and do not pile up.
 * @throws Error naming `dir` when it cannot be created or written.
 */
export async function prepareDir(dir: string): Promise<void> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    try {
        await fs.promises.mkdir(dir, { recursive: true });
        await fs.promises.access(dir, fs.constants.W_OK);
    } catch (e) {
        throw new Error(`the build folder ${dir} is not writable: ${(e as Error).message}`);
    }
    for (const name of await fs.promises.readdir(dir)) {
        const m = /\.part-([0-9]+)$/.exec(name);
        if (m !== null && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) {
            await fs.promises.rm(path.join(dir, name), { force: true });
        }
    }
}

/** Writes `text` to `file` through a part file and a rename, so readers never see half of it. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    const part = partFile(path.dirname(file), path.basename(file));
    await fs.promises.writeFile(part, text);
    await fs.promises.rename(part, file);
}
