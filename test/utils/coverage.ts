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
 * Call first thing in a mocha `it` (a `function () {}`, not an arrow) that asserts gas figures: under coverage it
 * marks the test skipped, with the reason in its title, instead of failing on instrumented gas.
 */
export function skipGasAssertionsUnderCoverage(context: Mocha.Context): void {
  if (!UNDER_COVERAGE) return;
  if (context.test !== undefined) context.test.title += " (gas not measured under coverage instrumentation)";
  context.skip();
}
