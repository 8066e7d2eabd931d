/**
 * Whether the tests run under `hardhat test --coverage`.
 *
 * Coverage instruments every contract (a call into the coverage library per statement), so gas used under coverage
 * says nothing about gas in production, and instrumented contracts outgrow the 24,576-byte code limit a separate
 * `hardhat node` enforces. hardhat-mocha copies Hardhat's global options into the environment before it loads the
 * test files (`--coverage` becomes `HARDHAT_COVERAGE=true`, see `setGlobalOptionsAsEnvVariables` in
 * @nomicfoundation/hardhat-utils/env), which is how a test file can tell.
 */
export const UNDER_COVERAGE = process.env.HARDHAT_COVERAGE === "true";

/**
 * Call from a `before` hook of a `describe` (or first thing in an `it`), as a `function () {}`: under coverage it
 * prints `why` and skips the tests (they show as pending). Outside coverage it does nothing.
 */
export function skipUnderCoverage(context: Mocha.Context, why: string): void {
  if (!UNDER_COVERAGE) return;
  console.log(`      (skipped under coverage: ${why})`);
  context.skip();
}

/** {@link skipUnderCoverage} for tests that assert gas figures. */
export function skipGasAssertionsUnderCoverage(context: Mocha.Context): void {
  skipUnderCoverage(context, "coverage instrumentation changes gas");
}
