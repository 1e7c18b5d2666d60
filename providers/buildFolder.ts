/**
 * The local build folder: a content-addressed cache shared by every stack of a checkout.
 *
 * Layout under `buildDir` (default `build/`, git-ignored):
 * - `installers/<16 hex of the tenant>/<upt_package>-<arch>-<protect|sensor>-<version>/<installer>`
 *   and `installer.json` (tenant, asset group, file name, size, sha256) written last, so a folder
 *   without it is never trusted; the tenant part keys the cache by Uptycs tenant and asset group,
 *   as an installer embeds its tenant's enrollment secret;
 *   — the installer is kept inside a zip that holds it as a stored entry (`installer.zip`, a hard
 *   link of the first zip built from it), so the bytes are written once, straight into a zip;
 *   `installer.json` records where in it they are (`dataOffset`), their size and sha256;
 * - `zips/<dir>-<version>-<12 hex of the zip's sha256>.zip`.
 * Installers and zips hold that secret: every folder is 0700 and every file 0600, whatever the
 * umask, and folders left by older versions are tightened when used.
 * Writes go to `*.part-<pid>` files renamed into place; parts of dead processes are removed.
 * Runs inside the serialized dynamic provider: node modules are required inside the functions.
 */
import { canonicalJson, sha256Hex } from "../platforms/digest";

/** Mode of every folder of the build folder: owner only. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file of the build folder: owner read/write only. */
export const PRIVATE_FILE_MODE = 0o600;

/** What makes one cached installer differ from another. */
export interface InstallerCacheKey {
    /** The Uptycs tenant: API host and customer id, e.g. `acme.uptycs.io/1a2b…`. */
    readonly tenant: string;
    /** The asset group the installer enrolls into (`/objectGroups` id). */
    readonly assetGroupId: string;
    readonly uptPackage: string;
    readonly arch: string;
    readonly sensorOnly: boolean;
    readonly version: string;
}

/**
 * The installer's cache folder relative to `buildDir`. Pure: the tenant and asset group are
 * hashed (16 hex), so equal keys share a folder and different tenants never do.
 */
export function installerCacheDir(key: InstallerCacheKey): string {
    const tenant = sha256Hex(canonicalJson({ tenant: key.tenant, assetGroupId: key.assetGroupId })).slice(0, 16);
    return `installers/${tenant}/${key.uptPackage}-${key.arch}-${key.sensorOnly ? "sensor" : "protect"}-${key.version}`;
}

/** What this program's own code reads from disk and hashes (sha256), in bytes. */
export type IoCounter = "read" | "hashed";

/**
 * Adds `bytes` to counter `kind` when UPTYCS_IO_COUNTERS names a file (the benchmark and the
 * tests set it for the provider host, another process): one `<kind> <bytes>` line per call, so
 * no state is kept in the provider. Figures that do not depend on the machine's speed.
 */
export function countIo(kind: IoCounter, bytes: number): void {
    const file = process.env.UPTYCS_IO_COUNTERS;
    if (file !== undefined && file !== "" && bytes > 0) {
        const fs: typeof import("fs") = require("fs");
        fs.appendFileSync(file, `${kind} ${bytes}\n`);
    }
}

/** Size and hex sha256 of the bytes that went through a {@link hashingTap}. */
export interface TapResult {
    readonly size: number;
    readonly sha256: string;
}

/**
 * A pass-through stream that sha256-hashes what flows through it; `onChunk` runs per chunk with
 * the bytes so far (e.g. to reset an idle timer). `result` resolves when the stream ends.
 */
export function hashingTap(onChunk: (received: number) => void = () => undefined): { stream: import("stream").Transform; result: Promise<TapResult> } {
    const crypto: typeof import("crypto") = require("crypto");
    const { Transform }: typeof import("stream") = require("stream");
    const hash = crypto.createHash("sha256");
    let size = 0;
    let done: (r: TapResult) => void = () => undefined;
    const result = new Promise<TapResult>((resolve) => {
        done = resolve;
    });
    const stream = new Transform({
        transform(chunk: Buffer, _encoding, callback): void {
            hash.update(chunk);
            size += chunk.length;
            onChunk(size);
            callback(null, chunk);
        },
        flush(callback): void {
            countIo("hashed", size);
            done({ size, sha256: hash.digest("hex") });
            callback();
        },
    });
    return { stream, result };
}

/** Hex sha256 of a file (or of `length` bytes from `start`), streamed. Rejects when it cannot be read. */
export async function sha256File(file: string, range?: { start: number; length: number }): Promise<string> {
    const fs: typeof import("fs") = require("fs");
    const crypto: typeof import("crypto") = require("crypto");
    const hash = crypto.createHash("sha256");
    let size = 0;
    const options = range === undefined ? {} : { start: range.start, end: range.start + range.length - 1 };
    for await (const chunk of fs.createReadStream(file, options)) {
        hash.update(chunk as Buffer);
        size += (chunk as Buffer).length;
    }
    countIo("read", size);
    countIo("hashed", size);
    return hash.digest("hex");
}

/**
 * `<size>:<inode>:<mtime ms>` of a file, or undefined when it does not exist: while it stays the
 * same, the file's bytes are taken to be the ones hashed before, without reading them.
 */
export async function fileFingerprint(file: string): Promise<string | undefined> {
    const fs: typeof import("fs") = require("fs");
    const stat = await fs.promises.stat(file).catch(() => undefined);
    return stat === undefined ? undefined : `${stat.size}:${stat.ino}:${stat.mtimeMs}`;
}

/**
 * Streams `source` into `file` (mode 0600), hashing on the way (memory stays flat); `onChunk`
 * runs per chunk with the bytes received so far, e.g. to reset an idle timer. Resolves with the
 * bytes written and their hex sha256. A file that existed is tightened to 0600 too (the mode
 * applies only when a file is created).
 */
export async function writeHashed(source: NodeJS.ReadableStream, file: string, onChunk: (received: number) => void = () => undefined): Promise<{ size: number; sha256: string }> {
    const fs: typeof import("fs") = require("fs");
    const crypto: typeof import("crypto") = require("crypto");
    const { pipeline }: typeof import("stream/promises") = require("stream/promises");
    const hash = crypto.createHash("sha256");
    let size = 0;
    await pipeline(source, async function* (chunks: AsyncIterable<Buffer | string>) {
        for await (const chunk of chunks) {
            const bytes = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
            hash.update(bytes);
            size += bytes.length;
            onChunk(size);
            yield bytes;
        }
    }, fs.createWriteStream(file, { mode: PRIVATE_FILE_MODE }));
    countIo("hashed", size);
    await fs.promises.chmod(file, PRIVATE_FILE_MODE);
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
 * Creates `root/…parts` with every folder from `root` down 0700 (existing ones tightened), and
 * removes the `*.part-<pid>` files of processes that no longer run (a killed `pulumi up`) from the
 * last one, so they are never mistaken for content and do not pile up.
 * @returns the folder's path.
 * @throws Error naming the folder when it cannot be created or written.
 */
export async function prepareDir(root: string, ...parts: string[]): Promise<string> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    let dir = root;
    try {
        for (const part of ["", ...parts]) {
            dir = path.join(dir, part);
            await fs.promises.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
            await fs.promises.chmod(dir, PRIVATE_DIR_MODE);
        }
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
    return dir;
}

/**
 * Makes the whole build folder private: every folder 0700, every file 0600 (links are left
 * alone). For folders and files written by older versions of the program or under a loose umask;
 * cheap, as the folder holds tens of files. A missing folder is created.
 * @throws Error naming the folder when it cannot be created or changed.
 */
export async function tightenBuildFolder(buildDir: string): Promise<void> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    await prepareDir(buildDir);
    const walk = async (dir: string): Promise<void> => {
        for (const entry of await fs.promises.readdir(dir, { withFileTypes: true })) {
            const p = path.join(dir, entry.name);
            if (entry.isDirectory()) {
                await fs.promises.chmod(p, PRIVATE_DIR_MODE);
                await walk(p);
            } else if (entry.isFile()) {
                await fs.promises.chmod(p, PRIVATE_FILE_MODE);
            }
        }
    };
    try {
        await walk(buildDir);
    } catch (e) {
        throw new Error(`the build folder ${buildDir} cannot be made private: ${(e as Error).message}`);
    }
}

/** Writes `text` to `file` (0600) through a part file and a rename, so readers never see half of it. */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    const part = partFile(path.dirname(file), path.basename(file));
    await fs.promises.writeFile(part, text, { mode: PRIVATE_FILE_MODE });
    await fs.promises.chmod(part, PRIVATE_FILE_MODE);
    await fs.promises.rename(part, file);
}
