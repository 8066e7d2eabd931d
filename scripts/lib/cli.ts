import { parseArgs, type ParseArgsConfig } from "node:util";

/**
 * What every platechain command-line entry point shares: strict flag parsing whose errors name the flag, and a
 * main wrapper that prints one clear line for an expected error instead of a stack trace.
 */

/** An error the user can fix from the message alone: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export function parseFlags<T extends NonNullable<ParseArgsConfig["options"]>>(
  argv: readonly string[],
  options: T,
  usage: string,
): ReturnType<typeof parseArgs<{ options: T; strict: true; allowPositionals: false }>>["values"] {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage}`);
  }
}

/** A positive whole number from a flag, or a UsageError naming the flag. */
export function positiveInt(flag: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} must be a whole number, got "${value}"`);
  const parsed = Number(value);
  if (parsed < 1 || parsed > max) throw new UsageError(`--${flag} must be between 1 and ${max}, got ${parsed}`);
  return parsed;
}

/**
 * Runs `main`; a UsageError or another error whose class the caller lists as expected prints one line and exits
 * non-zero. Anything else is a bug and keeps its stack trace.
 */
export function runMain(main: () => Promise<void>, expected: readonly (new (...args: never[]) => Error)[] = []): void {
  main().then(
    () => process.exit(process.exitCode ?? 0),
    (error: unknown) => {
      if (error instanceof UsageError) {
        console.error(`error: ${error.message}`);
        process.exit(2);
      }
      if (expected.some((kind) => error instanceof kind)) {
        console.error(`error: ${(error as Error).message}`);
        process.exit(1);
      }
      console.error(error);
      process.exit(1);
    },
  );
}
