/**
 * Config objects as users write them (stack config JSON, component arguments): plain objects
 * whose every field is known. A misspelled field (`timeoutSecond`, `stage`) must fail, naming
 * it, rather than be ignored without a word.
 */

/** True for a plain object (not null, not a list). */
export function isRecord(v: unknown): v is Record<string, unknown> {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * @throws Error naming the fields of `value` that are not in `known`, and the known ones.
 */
export function refuseUnknownFields(value: Record<string, unknown>, known: readonly string[]): void {
    const unknown = Object.keys(value).filter((k) => !known.includes(k));
    if (unknown.length > 0) {
        throw new Error(`has unknown field${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")} (known: ${known.join(", ")})`);
    }
}
