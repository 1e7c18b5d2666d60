// The provider host's own disk-read and hash counters (providers/buildFolder.ts `countIo`, on when
// UPTYCS_IO_COUNTERS names a file), read by the tests and the benchmark.
import * as fs from "fs";
import { ARTIFACT_TYPE, ProgramRun } from "./program";

/** Bytes read from disk and hashed by the host. */
export interface IoCounts {
    readonly read: number;
    readonly hashed: number;
}

/** The counters' sums since the file was last taken, and empties it. */
export function takeCounters(file: string): IoCounts {
    const sums = { read: 0, hashed: 0 };
    for (const line of fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n") : []) {
        const [kind, bytes] = line.split(" ");
        if (kind === "read" || kind === "hashed") {
            sums[kind] += Number(bytes);
        }
    }
    fs.rmSync(file, { force: true });
    return sums;
}

/** Bytes of the distinct zips a run built (entries with the same content share one file). */
export function distinctZipBytes(run: ProgramRun): number {
    return [...new Map(run.byType(ARTIFACT_TYPE).map((a) => [a.state.zipSha256, a.state.zipSize as number])).values()].reduce((n, s) => n + s, 0);
}
