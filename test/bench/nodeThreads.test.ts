/**
 * The scale benchmark reads the CPU time of a `hardhat node`'s threads from /proc and picks the chain's by its name
 * (CHAIN_THREAD): a Hardhat or EDR upgrade that renames it would silently blank that row, so this checks the name
 * against a real node mining real transactions.
 */
import { expect } from "chai";
import { JsonRpcProvider, Network, parseEther, Wallet } from "ethers";

import {
  CHAIN_THREAD,
  startHardhatNode,
  threadCpuSeconds,
  type HardhatNodeProcess,
} from "../../scripts/lib/hardhatNode.js";
import { skipUnderCoverage } from "../utils/coverage.js";

describe("hardhat node threads' CPU time (scale benchmark)", function () {
  this.timeout(120_000);
  let node: HardhatNodeProcess;
  let provider: JsonRpcProvider;

  before(async function () {
    skipUnderCoverage(this, "no contract of ours runs here, and npm test has already run this");
    if (process.platform !== "linux") this.skip();
    node = await startHardhatNode({ quiet: true });
    provider = new JsonRpcProvider(node.url, Network.from(31337n), { staticNetwork: true, cacheTimeout: -1 });
  });

  after(async function () {
    provider?.destroy();
    await node?.stop();
  });

  it("finds the chain thread by name, and its CPU time grows as the node mines", async function () {
    const before = node.cpuSecondsByThread();
    expect([...before.keys()]).to.include(CHAIN_THREAD);
    const payer = await provider.getSigner(0);
    for (let i = 0; i < 50; i++) {
      await payer.sendTransaction({ to: Wallet.createRandom().address, value: parseEther("0.001") });
    }
    const after = node.cpuSecondsByThread();
    expect(after.get(CHAIN_THREAD) ?? 0).to.be.greaterThan(before.get(CHAIN_THREAD) ?? 0);
    for (const [name, seconds] of before) expect(after.get(name) ?? seconds).to.be.at.least(seconds);
  });

  it("reads this process's own threads, and nothing for a pid that cannot exist (over the kernel's 2^22 limit)", function () {
    let spin = 0;
    for (let i = 0; i < 5e7; i++) spin += i;
    expect(spin).to.be.greaterThan(0);
    const own = threadCpuSeconds(process.pid);
    const total = [...own.values()].reduce((sum, seconds) => sum + seconds, 0);
    expect(total).to.be.greaterThan(0);
    expect(threadCpuSeconds(2 ** 22 + 1).size).to.equal(0);
  });
});
