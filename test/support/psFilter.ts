// No PowerShell can be had on this machine (Debian has no package of it), so the removal logic of
// the Windows scripts is evaluated here with PowerShell's own semantics for the few forms it uses:
// the `Where-Object` filter of `Get-OtherBuilds`, split at its top-level `-and`, each conjunct one
// of the forms below (case-insensitive `-match` and `-like`, `-contains`/`-notcontains` on a
// list). A conjunct of any other form fails loudly, so a change to the script is never evaluated
// by guesswork.

/** An uninstall registry key as `Get-ItemProperty` returns it. */
export interface UninstallEntry {
    readonly PSChildName: string;
    readonly DisplayName?: string;
}

/** What the filter's variables hold: `$AgentBuilds` (patterns) and `$same` (product codes sharing the MSI's UpgradeCode). */
export interface FilterScope {
    readonly AgentBuilds: readonly string[];
    readonly same: readonly string[];
}

/** PowerShell `-like`: `*` and `?` wildcards, case-insensitive. */
function like(text: string, pattern: string): boolean {
    const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${re}$`, "i").test(text);
}

/** Splits `text` at ` -and ` outside parentheses, braces and quotes. */
function conjuncts(text: string): string[] {
    const parts: string[] = [];
    let depth = 0;
    let quote = false;
    let start = 0;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === "'") {
            quote = !quote;
        } else if (!quote && "({".includes(c)) {
            depth++;
        } else if (!quote && ")}".includes(c)) {
            depth--;
        } else if (!quote && depth === 0 && text.startsWith(" -and ", i)) {
            parts.push(text.slice(start, i).trim());
            start = i + " -and ".length;
        }
    }
    parts.push(text.slice(start).trim());
    return parts;
}

/**
 * The `Where-Object { ... }` filter of function `Get-OtherBuilds` in `script`, as a predicate.
 * @throws Error when the function, its filter, or a form in it is not one this evaluator knows.
 */
export function otherBuildsFilter(script: string): (entry: UninstallEntry, scope: FilterScope) => boolean {
    const fn = /function Get-OtherBuilds \{[\s\S]*?\n\}/.exec(script)?.[0];
    const body = fn === undefined ? undefined : /Where-Object \{ (.*) \}\s*$/m.exec(fn)?.[1];
    if (body === undefined) {
        throw new Error("no Where-Object filter in function Get-OtherBuilds");
    }
    const [assignment, condition] = body.split(/;\s*/, 2);
    const assigned = /^\$name = \$_\.(\w+)$/.exec(assignment);
    if (assigned === null || condition === undefined) {
        throw new Error(`unknown filter form: ${body}`);
    }
    const tests = conjuncts(condition).map((part): ((e: UninstallEntry, s: FilterScope, name: string | undefined) => boolean) => {
        let m: RegExpExecArray | null;
        if (part === "$name") {
            return (_e, _s, name) => name !== undefined && name !== "";
        }
        if ((m = /^\$_\.(\w+) -match '([^']*)'$/.exec(part)) !== null) {
            const [prop, re] = [m[1] as keyof UninstallEntry, new RegExp(m[2], "i")];
            return (e) => re.test(String(e[prop] ?? ""));
        }
        if (part === "@($AgentBuilds | Where-Object { $name -like $_ }).Count -gt 0") {
            return (_e, s, name) => s.AgentBuilds.some((p) => like(name ?? "", p));
        }
        if ((m = /^\$same -(not)?contains \$_\.(\w+)$/.exec(part)) !== null) {
            const [negated, prop] = [m[1] === "not", m[2] as keyof UninstallEntry];
            return (e, s) => s.same.some((c) => c.toLowerCase() === String(e[prop] ?? "").toLowerCase()) !== negated;
        }
        throw new Error(`unknown conjunct in the Get-OtherBuilds filter: ${part}`);
    });
    return (entry, scope) => {
        const name = entry[assigned[1] as keyof UninstallEntry];
        return tests.every((t) => t(entry, scope, name));
    };
}
