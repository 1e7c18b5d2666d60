/**
 * Content digests: the names, keys and change detection of this project derive from content.
 * Pure functions.
 */

/** Hex sha256 of a UTF-8 string. */
export function sha256Hex(text: string): string {
    const crypto: typeof import("crypto") = require("crypto");
    return crypto.createHash("sha256").update(text).digest("hex");
}

/** JSON with object keys sorted and undefined members dropped: equal values give equal text. */
export function canonicalJson(value: unknown): string {
    if (Array.isArray(value)) {
        return `[${value.map(canonicalJson).join(",")}]`;
    }
    if (typeof value === "object" && value !== null) {
        const obj = value as Record<string, unknown>;
        return `{${Object.keys(obj).sort().filter((k) => obj[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(",")}}`;
    }
    return JSON.stringify(value);
}
