/**
 * The download of an installer from the Uptycs API (`GET /packageDownloads/...`, see
 * ./uptycsApi): its bytes go straight into the artifact's zip as they arrive (hashed and
 * CRC-32'd on the way), and that zip becomes the installer cache's copy.
 */
import { hashingTap, partFile } from "./buildFolder";
import { CacheOwner, CarrierZip, keepInCache } from "./installerCache";
import { downloadInstaller, InstallerRequest, RequestPolicy, UptycsApiKey } from "./uptycsApi";
import { writeDeterministicZip, zipEntryDataOffset } from "./zip";
import { BuiltZip, publishZip, zipEntries, ZipTarget } from "./zipAssembly";

/**
 * Downloads the installer `request` names into `target`'s zip (a part file in the cache folder
 * `dir`), keeps that zip as the cache's copy for `owner`, and publishes it. A broken body fails
 * the zip (the hashing tap's error ends the archive).
 * @throws UptycsApiError (./uptycsApi) naming the endpoint when the download fails.
 */
export async function downloadIntoZip(apiKey: UptycsApiKey, request: InstallerRequest, policy: RequestPolicy, target: ZipTarget, dir: string, owner: CacheOwner,
): Promise<{ carrier: CarrierZip; zip: BuiltZip }> {
    const fs: typeof import("fs") = require("fs");
    const { pipeline }: typeof import("stream") = require("stream");
    const part = partFile(dir, "download");
    try {
        const got = await downloadInstaller(apiKey, request, policy, async (fileName, body, progress) => {
            const tap = hashingTap(progress);
            pipeline(body, tap.stream, () => undefined);
            const zip = await writeDeterministicZip(zipEntries(target.scripts, fileName, tap.stream), part);
            return { ...(await tap.result), zip };
        });
        const installer = { fileName: got.fileName, size: got.size, sha256: got.sha256 };
        const carrier = await keepInCache(dir, part, owner, installer, await zipEntryDataOffset(part, got.fileName));
        return { carrier, zip: await publishZip(target, part, got.zip, installer) };
    } finally {
        await fs.promises.rm(part, { force: true });
    }
}
