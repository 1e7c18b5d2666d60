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

/** What {@link numberField} accepts. */
export interface NumberRange {
    readonly min: number;
    readonly max: number;
    /** Whole numbers only. */
    readonly whole: boolean;
    /** Named in the message: `a whole number of seconds from 5 to 1800`. */
    readonly unit?: string;
}

/**
 * The number field `key` of a config object, or `fallback` when absent.
 * @throws Error naming the field, the range and the value given.
 */
export function numberField(obj: Record<string, unknown>, key: string, fallback: number, range: NumberRange): number {
    const v = obj[key] ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || v < range.min || v > range.max || (range.whole && !Number.isInteger(v))) {
        throw new Error(`${key} must be a ${range.whole ? "whole " : ""}number ${range.unit ? `of ${range.unit} ` : ""}from ${range.min} to ${range.max}, got ${JSON.stringify(v)}`);
    }
    return v;
}

/**
 * The boolean field `key` of a config object, or `fallback` when absent.
 * @throws Error naming the field and the value given.
 */
export function booleanField(obj: Record<string, unknown>, key: string, fallback: boolean): boolean {
    const v = obj[key] ?? fallback;
    if (typeof v !== "boolean") {
        throw new Error(`${key} must be true or false, got ${JSON.stringify(v)}`);
    }
    return v;
}
