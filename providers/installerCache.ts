/**
 * The installer cache of the build folder: one folder per tenant, asset group, installer
 * package, arch, build and version (`installerCacheDir` in ./buildFolder), holding the first zip built from a
 * download (`installer.zip`, the installer stored in it) and `installer.json` saying whose it is,
 * what was downloaded and where its bytes start. Later zips of that installer read it from there
 * once, verifying it as they read it; a cache entry of another tenant or asset group, or one that
 * fails that check, is dropped and downloaded again.
 */
import { installerNameProblem } from "../platforms/installer";
import { UptPackage } from "../platforms/mapping";
import { countIo, hashingTap, writeFileAtomic } from "./buildFolder";
import { DownloadedInstaller } from "./uptycsApi";
import { writeDeterministicZip } from "./zip";
import { BuiltZip, publishZip, throughPart, zipEntries, ZipTarget } from "./zipAssembly";

/** `installer.json` of a cached installer: whose it is, what was downloaded, and where its bytes are. */
export interface CachedInstaller extends DownloadedInstaller {
    readonly tenant: string;
    readonly assetGroupId: string;
    /** The zip in the cache folder (a hard link of the first zip built from the download) holding the installer, stored. */
    readonly zipFile: string;
    /** Where the installer's bytes start in it, bytes. */
    readonly dataOffset: number;
}

/** A cached installer found on disk (not yet verified: its bytes are hashed as they are read). */
export interface CarrierZip extends CachedInstaller {
    /** Path of `zipFile`. */
    readonly file: string;
}

/** Whose installer a cache folder must hold. */
export interface CacheOwner {
    readonly tenant: string;
    readonly assetGroupId: string;
    readonly uptPackage: UptPackage;
}

/** The cache's installer was not what `installer.json` says (its description is gone then): download it again. */
export class CorruptCache extends Error {}

/** The name of the cache's zip that holds the installer. */
const CARRIER_ZIP = "installer.zip";
/** The cache entry's description. */
const META_FILE = "installer.json";

/**
 * The installer in the cache folder `dir`, when `installer.json` is there, is `owner`'s and its
 * zip is long enough for the bytes it names; `undefined` otherwise (a folder of an older version
 * of the program, a killed download), the description then removed.
 */
export async function readCachedInstaller(dir: string, owner: CacheOwner): Promise<CarrierZip | undefined> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    const metaFile = path.join(dir, META_FILE);
    const meta = await fs.promises.readFile(metaFile, "utf8").then((t) => JSON.parse(t) as Partial<CachedInstaller>).catch(() => undefined);
    if (meta === undefined) {
        return undefined;
    }
    const file = path.join(dir, CARRIER_ZIP);
    const stat = await fs.promises.stat(file).catch(() => undefined);
    if (meta.tenant === owner.tenant && meta.assetGroupId === owner.assetGroupId && meta.zipFile === CARRIER_ZIP
        && typeof meta.fileName === "string" && installerNameProblem(meta.fileName, owner.uptPackage) === undefined
        && typeof meta.sha256 === "string" && Number.isInteger(meta.size) && Number.isInteger(meta.dataOffset)
        && stat !== undefined && stat.size >= meta.dataOffset! + meta.size!) {
        return { ...(meta as CachedInstaller), file };
    }
    await fs.promises.rm(metaFile, { force: true });
    return undefined;
}

/**
 * Keeps `zip` (the first zip built from a download, the installer stored at `dataOffset`) as the
 * cache of folder `dir`: hard-linked (copied where links fail) as `installer.zip`, then described.
 */
export async function keepInCache(dir: string, zip: string, owner: CacheOwner, installer: DownloadedInstaller, dataOffset: number): Promise<CarrierZip> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    const file = path.join(dir, CARRIER_ZIP);
    const meta: CachedInstaller = {
        tenant: owner.tenant, assetGroupId: owner.assetGroupId, fileName: installer.fileName, size: installer.size, sha256: installer.sha256,
        zipFile: CARRIER_ZIP, dataOffset,
    };
    await fs.promises.rm(file, { force: true });
    await fs.promises.link(zip, file).catch(() => fs.promises.copyFile(zip, file));
    await writeFileAtomic(path.join(dir, META_FILE), JSON.stringify(meta, null, 2));
    return { ...meta, file };
}

/**
 * The zip of a cached installer, its bytes read once from the cache's zip and verified as they
 * are read.
 * @throws CorruptCache when they are not what the cache says: nothing is published, and the
 *   cache's description is dropped (the next read finds no cached installer).
 */
export async function zipFromCache(target: ZipTarget, carrier: CarrierZip): Promise<BuiltZip> {
    const fs: typeof import("fs") = require("fs");
    const path: typeof import("path") = require("path");
    const { pipeline }: typeof import("stream") = require("stream");
    return throughPart(target, carrier.sha256.slice(0, 16), async (part) => {
        const tap = hashingTap();
        pipeline(fs.createReadStream(carrier.file, { start: carrier.dataOffset, end: carrier.dataOffset + carrier.size - 1 }), tap.stream, () => undefined);
        const zip = await writeDeterministicZip(zipEntries(target.scripts, carrier.fileName, tap.stream), part);
        countIo("read", carrier.size);
        const read = await tap.result;
        if (read.size !== carrier.size || read.sha256 !== carrier.sha256) {
            await fs.promises.rm(path.join(path.dirname(carrier.file), META_FILE), { force: true });
            throw new CorruptCache(`the cached installer ${carrier.fileName} is not what was downloaded`);
        }
        return publishZip(target, part, zip, carrier);
    });
}
