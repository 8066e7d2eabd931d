/**
 * Fails when solc reported any warning for platechain's own sources (contracts/ and test/).
 *
 * Hardhat 3 prints compiler warnings but never fails a build on them, so `npm run lint` runs this after
 * `hardhat build`: it reads the compiler output Hardhat keeps for every compilation job in
 * `artifacts/build-info/*.output.json`, cache hits included (the job that produced a cached artifact keeps its
 * build info). A build info can outlive some of its sources after an incremental build, so a warning counts only
 * when the file it points at still has, on disk, the content that job compiled.
 *
 * Usage: node scripts/check-compiler-warnings.ts   (run `hardhat build` first)
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

interface CompilerMessage {
  readonly severity: string;
  readonly message: string;
  readonly formattedMessage?: string;
  readonly sourceLocation?: { readonly file: string };
}

interface BuildInfoOutput {
  readonly output: { readonly errors?: readonly CompilerMessage[] };
}

interface BuildInfoInput {
  readonly input: { readonly sources: Readonly<Record<string, { readonly content?: string }>> };
}

const BUILD_INFO_DIR = path.join("artifacts", "build-info");
/** Hardhat 3 names project sources `project/<path>`; npm dependencies keep their package names. */
const OWN_SOURCE = /^project\/(contracts|test)\//;
const OWN_PREFIX = /^project\//;
/**
 * Test contracts are never deployed to a chain, and Solidity tests (and their fixtures that deploy the whole system)
 * routinely exceed the code-size limits: those two warnings are not findings there. Under contracts/ they are.
 */
const TEST_SOURCE = /^project\/test\//;
const SIZE_WARNING = /^Contract (init)?code size is \d+ bytes and exceeds/;

function ownWarnings(): CompilerMessage[] {
  const outputs = readdirSync(BUILD_INFO_DIR).filter((name) => name.endsWith(".output.json"));
  if (outputs.length === 0) throw new Error(`no compiler output in ${BUILD_INFO_DIR}: run \`hardhat build\` first`);
  const found = new Map<string, CompilerMessage>();
  for (const name of outputs) {
    const buildInfo = JSON.parse(readFileSync(path.join(BUILD_INFO_DIR, name), "utf8")) as BuildInfoOutput;
    const inputFile = path.join(BUILD_INFO_DIR, name.replace(/\.output\.json$/, ".json"));
    const { sources } = (JSON.parse(readFileSync(inputFile, "utf8")) as BuildInfoInput).input;
    for (const message of buildInfo.output.errors ?? []) {
      const file = message.sourceLocation?.file ?? "";
      if (message.severity !== "warning" || !OWN_SOURCE.test(file)) continue;
      if (TEST_SOURCE.test(file) && SIZE_WARNING.test(message.message)) continue;
      if (!isCurrent(file, sources[file]?.content)) continue;
      // The same warning appears once per compilation job that includes the file.
      found.set(message.formattedMessage ?? `${file}: ${message.message}`, message);
    }
  }
  return [...found.values()];
}

/** Whether `sourceName` (`project/<path>`) still reads `compiled` on disk. */
function isCurrent(sourceName: string, compiled: string | undefined): boolean {
  const onDisk = path.join(...sourceName.replace(OWN_PREFIX, "").split("/"));
  try {
    return compiled === readFileSync(onDisk, "utf8");
  } catch {
    return false; // the file was deleted since
  }
}

const warnings = ownWarnings();
if (warnings.length > 0) {
  for (const warning of warnings) console.error(warning.formattedMessage ?? warning.message);
  console.error(`${warnings.length} compiler warning(s) in contracts/ or test/: fix them (warnings fail the lint).`);
  process.exit(1);
}
console.log("No compiler warnings in contracts/ or test/.");
