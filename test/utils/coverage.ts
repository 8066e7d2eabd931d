/**
 * Whether the tests run under `hardhat test --coverage`.
 *
 * Coverage instruments every contract (a call into the coverage library per statement), so gas used under coverage
 * says nothing about gas in production. hardhat-mocha copies Hardhat's global options into the environment before it
 * loads the test files (`--coverage` becomes `HARDHAT_COVERAGE=true`, see `setGlobalOptionsAsEnvVariables` in
 * @nomicfoundation/hardhat-utils/env), which is how a test file can tell.
 */
export const UNDER_COVERAGE = process.env.HARDHAT_COVERAGE === "true";

/**
 * Call from a `before` hook of a `describe` that asserts gas figures (or first thing in such an `it`), as a
 * `function () {}`: under coverage it prints why and skips the tests (they show as pending), instead of failing on
 * instrumented gas. Outside coverage it does nothing.
 */
export function skipGasAssertionsUnderCoverage(context: Mocha.Context): void {
  if (!UNDER_COVERAGE) return;
  console.log("      (gas assertions skipped: coverage instrumentation changes gas)");
  context.skip();
}
