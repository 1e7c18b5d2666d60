/**
 * Zip assembly: an artifact's zip holds its scripts (with the installer's file name filled in)
 * and the installer, written byte-deterministically in one pass over the installer's bytes
 * (./zip), then moved into `<buildDir>/zips/` under a name derived from its content.
 */
import { fillScripts, PackageScripts } from "../platforms/scripts";
import { countIo, partFile, prepareDir } from "./buildFolder";
import { DownloadedInstaller } from "./uptycsApi";
import { writeDeterministicZip, ZipEntry, ZipResult } from "./zip";

/** A zip written for an artifact, and the installer in it. */
export interface BuiltZip extends ZipResult {
    /** Its path, relative to the project: `<buildDir>/zips/<dir>-<version>-<12 hex>.zip`. */
    readonly zipPath: string;
    readonly installer: DownloadedInstaller;
}

/** What one zip is built for. */
export interface ZipTarget {
    /** Build folder, relative to the project. */
    readonly buildDir: string;
    /** The mapping entry's `dir`: the zip's file name starts with it. */
    readonly entryDir: string;
    /** The agent version. */
    readonly version: string;
    /** The script templates (see `scriptTemplates`). */
    readonly scripts: PackageScripts;
}

/** The zip's entries: the scripts for `installer` (executable), and the installer from `stream`. */
export function zipEntries(scripts: PackageScripts, installer: string, stream: NodeJS.ReadableStream): ZipEntry[] {
    return [
        ...Object.entries(fillScripts(scripts, installer)).map(([name, content]) => ({ name, content, mode: 0o755 })),
        { name: installer, stream, mode: 0o644 },
    ];
}

/** Moves a written zip part into `zips/` under its content-derived name. */
export async function publishZip(target: ZipTarget, part: string, zip: ZipResult, installer: DownloadedInstaller): Promise<BuiltZip> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    const zipDir = await prepareDir(target.buildDir, "zips");
    const zipPath = path.join(zipDir, `${target.entryDir}-${target.version}-${zip.sha256.slice(0, 12)}.zip`);
    await fs.promises.rename(part, zipPath);
    return { ...zip, zipPath, installer };
}

/**
 * Writes the zip from a part file named after `base` in `zips/` by `write`, publishes it, and
 * removes the part whatever happens.
 */
export async function throughPart(target: ZipTarget, base: string, write: (part: string) => Promise<BuiltZip>): Promise<BuiltZip> {
    const fs: typeof import("fs") = require("fs");
    const part = partFile(await prepareDir(target.buildDir, "zips"), `${target.entryDir}-${base}`);
    try {
        return await write(part);
    } finally {
        await fs.promises.rm(part, { force: true });
    }
}

/** The zip of a local installer file whose sha256 is known (read once). */
export async function zipFromFile(target: ZipTarget, file: string, sha256: string): Promise<BuiltZip> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    const fileName = path.basename(file);
    return throughPart(target, sha256.slice(0, 16), async (part) => {
        const zip = await writeDeterministicZip(zipEntries(target.scripts, fileName, fs.createReadStream(file)), part);
        const { size } = await fs.promises.stat(file);
        countIo("read", size);
        return publishZip(target, part, zip, { fileName, size, sha256 });
    });
}

/**
 * Makes `to` the same file as `from` (a hard link, a copy where links fail), unless it already
 * is: each entry keeps its own name, so deleting one entry's zip never removes another's.
 */
export async function linkZip(from: string, to: string): Promise<void> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    const [have, want] = await Promise.all([fs.promises.stat(to).catch(() => undefined), fs.promises.stat(from)]);
    if (have?.ino !== want.ino || have?.dev !== want.dev) {
        const part = partFile(path.dirname(to), path.basename(to));
        await fs.promises.rm(part, { force: true });
        await fs.promises.link(from, part).catch(() => fs.promises.copyFile(from, part));
        await fs.promises.rename(part, to);
    }
}
