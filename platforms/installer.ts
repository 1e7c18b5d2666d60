/**
 * Installer file names, as sent by the Uptycs API in `Content-Disposition` (see
 * `GET /packageDownloads/osquery/{upt_package}/{assetGroupId}`), or found in a local folder.
 * The name is rendered into the install scripts and used as a file name, so it is validated
 * before it touches the disk.
 */
import { UptPackage } from "./mapping";

/** Installer extension per Uptycs package family. */
export const INSTALLER_EXTENSION: Readonly<Record<UptPackage, string>> = Object.freeze({
    centos: ".rpm",
    debian: ".deb",
    windows: ".msi",
});

/** Longest accepted installer file name, in characters. */
export const MAX_INSTALLER_NAME_LENGTH = 200;

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * Why `name` is not an acceptable installer file name for `uptPackage`, or `undefined` when it is.
 * Accepted: letters, digits, `.`, `_`, `+`, `-` (so it is safe unquoted in sh and PowerShell),
 * no `..`, at most {@link MAX_INSTALLER_NAME_LENGTH} characters, the family's extension.
 */
export function installerNameProblem(name: string, uptPackage: UptPackage): string | undefined {
    const ext = INSTALLER_EXTENSION[uptPackage];
    if (name.length === 0) {
        return "is empty";
    }
    if (name.length > MAX_INSTALLER_NAME_LENGTH) {
        return `is ${name.length} characters long (at most ${MAX_INSTALLER_NAME_LENGTH})`;
    }
    if (!SAFE_NAME.test(name) || name.includes("..")) {
        return "has characters other than letters, digits, '.', '_', '+', '-', or a '..'";
    }
    if (!name.toLowerCase().endsWith(ext) || name.length === ext.length) {
        return `does not end in '${ext}' as a ${uptPackage} installer must`;
    }
    return undefined;
}

/**
 * The file name in a `Content-Disposition` header value (quoted, unquoted or RFC 5987 `filename*`).
 * @throws Error when the header is missing or names no file.
 */
export function fileNameFromContentDisposition(header: string | null | undefined): string {
    if (!header) {
        throw new Error("the response has no Content-Disposition header naming the installer");
    }
    const contentDisposition: typeof import("content-disposition") = require("content-disposition");
    let parsed: ReturnType<typeof contentDisposition.parse>;
    try {
        parsed = contentDisposition.parse(header);
    } catch (e) {
        throw new Error(`the Content-Disposition header '${header.slice(0, 300)}' does not parse: ${(e as Error).message}`);
    }
    const name = parsed.parameters["filename"];
    if (name === undefined) {
        throw new Error(`the Content-Disposition header '${header.slice(0, 300)}' names no filename`);
    }
    return name;
}
