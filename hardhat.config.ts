import { createRequire } from "node:module";

import hardhatToolboxMochaEthers from "@nomicfoundation/hardhat-toolbox-mocha-ethers";
import dotenv from "dotenv";
import { configVariable, defineConfig } from "hardhat/config";

import { adminTasks } from "./tasks/index.js";

// .env is optional: configVariable() falls back to the keystore, then to the environment.
dotenv.config({ quiet: true });

const require = createRequire(import.meta.url);

// The solc npm package ships the compiler as JavaScript; pinning it exactly means builds never download a compiler.
const SOLC_VERSION = "0.8.37";

// TollEscrow sits at the 24,576-byte code limit at 10,000 optimizer runs; its hot path is hand-written assembly
// that the runs setting barely touches, so it (and the test files that deploy it) are built for size instead.
// (Overrides need the `compilers` form of a profile.)
const SIZE_OPTIMIZED = {
  version: SOLC_VERSION,
  path: require.resolve("solc/soljson.js"),
  settings: { optimizer: { enabled: true, runs: 1_000 }, evmVersion: "osaka" },
};
const TOLL_ESCROW_OVERRIDE = {
  "contracts/toll/TollEscrow.sol": SIZE_OPTIMIZED,
  "test/toll/TollEscrow.t.sol": SIZE_OPTIMIZED,
  "test/toll/TollEscrowInvariant.t.sol": SIZE_OPTIMIZED,
  "test/toll/TollEscrowSetup.sol": SIZE_OPTIMIZED,
  "test/invariant/System.t.sol": SIZE_OPTIMIZED,
  "test/invariant/SystemHandler.sol": SIZE_OPTIMIZED,
  "test/invariant/SystemCalls.sol": SIZE_OPTIMIZED,
};

export default defineConfig({
  plugins: [hardhatToolboxMochaEthers],
  tasks: adminTasks,
  solidity: {
    profiles: {
      default: {
        compilers: [
          {
            version: SOLC_VERSION,
            path: require.resolve("solc/soljson.js"),
            settings: {
              optimizer: { enabled: true, runs: 10_000 },
              evmVersion: "osaka",
            },
          },
        ],
        overrides: TOLL_ESCROW_OVERRIDE,
      },
      production: {
        compilers: [
          {
            version: SOLC_VERSION,
            path: require.resolve("solc/soljson.js"),
            settings: {
              optimizer: { enabled: true, runs: 10_000 },
              evmVersion: "osaka",
            },
          },
        ],
        overrides: TOLL_ESCROW_OVERRIDE,
      },
    },
  },
  networks: {
    // The in-process network every test and the demo use by default.
    default: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: "osaka",
    },
    localhost: {
      type: "http",
      chainType: "l1",
      // LOCALHOST_RPC_URL points it at a node on another port (the admin CLI test starts one on a free port).
      url: configVariable("LOCALHOST_RPC_URL", { default: "http://127.0.0.1:8545" }),
    },
    sepolia: {
      type: "http",
      chainType: "l1",
      url: configVariable("SEPOLIA_RPC_URL"),
      accounts: [configVariable("SEPOLIA_PRIVATE_KEY")],
    },
  },
  test: {
    solidity: {
      profiles: {
        // What `npm test` runs: enough to catch regressions, quick enough for every push.
        default: {
          fuzz: { runs: 256 },
          invariant: { runs: 256, depth: 100, failOnRevert: false },
        },
        // `npm run coverage`: the instrumented run only measures which code the tests reach; the default profile
        // above already ran the full campaigns. See SECURITY.md for the measured times.
        coverage: {
          fuzz: { runs: 256 },
          invariant: { runs: 64, depth: 50, failOnRevert: false },
        },
        // `npm run test:deep`: before a release or after touching money paths.
        deep: {
          fuzz: { runs: 10_000 },
          invariant: { runs: 2_000, depth: 200, failOnRevert: false },
        },
      },
    },
  },
  // Read only when `hardhat verify` or `ignition verify` runs: nothing else needs an explorer key.
  verify: {
    etherscan: { apiKey: configVariable("ETHERSCAN_API_KEY") },
  },
  coverage: {
    // Test-only contracts (hostile tokens and receivers) and the benchmark peers are not platechain code: neither
    // instrumented nor gated.
    skipFiles: ["contracts/test/**", "contracts/bench/**"],
  },
  typechain: {
    outDir: "typechain-types",
  },
});
