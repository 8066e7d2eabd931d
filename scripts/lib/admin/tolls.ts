/**
 * The toll operator's and arbiter's commands on the TollEscrow: gantries, oracle keys, tariffs, disputes, pause.
 */
import type { LogDescription, TransactionReceipt } from "ethers";

import { type AdminCommand, type AdminOutcome, withTx } from "./command.js";
import type { AdminContext, CommonFlags } from "./context.js";
import { AdminError, flagError } from "./errors.js";
import { PAYING_CLASSES } from "./names.js";
import {
  UINT256_MAX,
  formatTimestamp,
  formatTokenAmount,
  parseAddress,
  parseAddressList,
  parseEitherFlag,
  parseFees,
  parseGantryId,
  parseInteger,
  parseTimestamp,
  required,
} from "./parse.js";

type SentOutcome = AdminOutcome & { readonly txHash: string };

export interface RegisterGantryFlags extends CommonFlags {
  readonly gantry?: string;
  readonly payee?: string;
  readonly oracleKeys?: string;
  readonly fees?: string;
}

interface RegisterGantryParsed {
  readonly gantryId: number;
  readonly payee: string;
  readonly oracleKeys: string[];
  readonly feesText: string;
}

/** `register-gantry`: a new gantry with its payee, oracle keys and tariff in force from now. TOLL_ADMIN_ROLE. */
export const registerGantryCommand: AdminCommand<RegisterGantryFlags, RegisterGantryParsed, SentOutcome> = {
  parse(flags) {
    return {
      gantryId: parseGantryId("gantry", flags.gantry),
      payee: parseAddress("payee", flags.payee),
      oracleKeys: parseAddressList("oracleKeys", flags.oracleKeys),
      feesText: required("fees", flags.fees),
    };
  },
  async run(ctx, parsed) {
    await ctx.requireRole("escrow", "TOLL_ADMIN_ROLE");
    const fees = await feesInUnits(ctx, parsed.feesText);
    const sent = await ctx.send("escrow", "registerGantry", () =>
      ctx.escrow.registerGantry.populateTransaction(parsed.gantryId, parsed.payee, parsed.oracleKeys, toFeeTuple(fees)),
    );
    const keys = parsed.oracleKeys.join(", ");
    const line =
      `registered gantry ${parsed.gantryId} paying ${parsed.payee}, oracle keys ${keys}, ` +
      `fees ${await describeFees(ctx, fees)}`;
    return { line: withTx(line, sent.hash), txHash: sent.hash };
  },
};

export interface SetOracleKeyFlags extends CommonFlags {
  readonly gantry?: string;
  readonly key?: string;
  readonly authorize?: boolean;
  readonly revoke?: boolean;
}

interface SetOracleKeyParsed {
  readonly gantryId: number;
  readonly key: string;
  readonly authorized: boolean;
}

/** `set-oracle-key`: allows (`--authorize`) or stops (`--revoke`) one oracle key of a gantry. TOLL_ADMIN_ROLE. */
export const setOracleKeyCommand: AdminCommand<SetOracleKeyFlags, SetOracleKeyParsed, SentOutcome> = {
  parse(flags) {
    return {
      gantryId: parseGantryId("gantry", flags.gantry),
      key: parseAddress("key", flags.key),
      authorized: parseEitherFlag("authorize", flags.authorize === true, "revoke", flags.revoke === true),
    };
  },
  async run(ctx, parsed) {
    await ctx.requireRole("escrow", "TOLL_ADMIN_ROLE");
    const sent = await ctx.send("escrow", "setOracleKey", () =>
      ctx.escrow.setOracleKey.populateTransaction(parsed.gantryId, parsed.key, parsed.authorized),
    );
    const verb = parsed.authorized ? "authorized" : "revoked";
    return {
      line: withTx(`${verb} oracle key ${parsed.key} for gantry ${parsed.gantryId}`, sent.hash),
      txHash: sent.hash,
    };
  },
};

export interface RotateOracleKeyFlags extends CommonFlags {
  readonly gantry?: string;
  readonly oldKey?: string;
  readonly newKey?: string;
}

interface RotateOracleKeyParsed {
  readonly gantryId: number;
  readonly oldKey: string;
  readonly newKey: string;
}

/** `rotate-oracle-key`: replaces `--old-key` by `--new-key` in one transaction. TOLL_ADMIN_ROLE. */
export const rotateOracleKeyCommand: AdminCommand<RotateOracleKeyFlags, RotateOracleKeyParsed, SentOutcome> = {
  parse(flags) {
    const parsed = {
      gantryId: parseGantryId("gantry", flags.gantry),
      oldKey: parseAddress("oldKey", flags.oldKey),
      newKey: parseAddress("newKey", flags.newKey),
    };
    if (parsed.oldKey === parsed.newKey) throw flagError("newKey", "is the same as --old-key: nothing to rotate");
    return parsed;
  },
  async run(ctx, parsed) {
    await ctx.requireRole("escrow", "TOLL_ADMIN_ROLE");
    const sent = await ctx.send("escrow", "rotateOracleKey", () =>
      ctx.escrow.rotateOracleKey.populateTransaction(parsed.gantryId, parsed.oldKey, parsed.newKey),
    );
    const line = `rotated gantry ${parsed.gantryId}'s oracle key ${parsed.oldKey} to ${parsed.newKey}`;
    return { line: withTx(line, sent.hash), txHash: sent.hash };
  },
};

export interface RetireGantryFlags extends CommonFlags {
  readonly gantry?: string;
}

/** `retire-gantry`: retires a gantry now; its scans from this block on are skipped. TOLL_ADMIN_ROLE. */
export const retireGantryCommand: AdminCommand<RetireGantryFlags, { readonly gantryId: number }, SentOutcome> = {
  parse(flags) {
    return { gantryId: parseGantryId("gantry", flags.gantry) };
  },
  async run(ctx, parsed) {
    await ctx.requireRole("escrow", "TOLL_ADMIN_ROLE");
    const sent = await ctx.send("escrow", "retireGantry", () =>
      ctx.escrow.retireGantry.populateTransaction(parsed.gantryId),
    );
    const retired = escrowEvent(ctx, sent.receipt, "GantryRetired");
    const at = formatTimestamp(retired.args.getValue("retiredAt") as bigint);
    return { line: withTx(`retired gantry ${parsed.gantryId} as of ${at}`, sent.hash), txHash: sent.hash };
  },
};

export interface SetTariffFlags extends CommonFlags {
  readonly gantry?: string;
  readonly fees?: string;
  readonly effectiveAt?: string;
}

interface SetTariffParsed {
  readonly gantryId: number;
  readonly feesText: string;
  readonly effectiveAt: bigint;
}

/**
 * `set-tariff`: schedules the fees that price the gantry's scans from `--effective-at` on; a time that is not in the
 * chain's future is refused before sending. TOLL_ADMIN_ROLE.
 */
export const setTariffCommand: AdminCommand<SetTariffFlags, SetTariffParsed, SentOutcome> = {
  parse(flags) {
    return {
      gantryId: parseGantryId("gantry", flags.gantry),
      feesText: required("fees", flags.fees),
      effectiveAt: parseTimestamp("effectiveAt", flags.effectiveAt),
    };
  },
  async run(ctx, parsed) {
    await ctx.requireRole("escrow", "TOLL_ADMIN_ROLE");
    const fees = await feesInUnits(ctx, parsed.feesText);
    const latest = await ctx.ethers.provider.getBlock("latest");
    if (latest === null) throw new AdminError("could not read the latest block to check --effective-at");
    const now = BigInt(latest.timestamp);
    if (parsed.effectiveAt <= now) {
      throw flagError(
        "effectiveAt",
        `${formatTimestamp(parsed.effectiveAt)} is not in the future: the chain's latest block is at ` +
          `${formatTimestamp(now)}, and a tariff is never retroactive`,
      );
    }
    const sent = await ctx.send("escrow", "scheduleTariff", () =>
      ctx.escrow.scheduleTariff.populateTransaction(parsed.gantryId, toFeeTuple(fees), parsed.effectiveAt),
    );
    const line =
      `scheduled gantry ${parsed.gantryId}'s tariff from ${formatTimestamp(parsed.effectiveAt)}: ` +
      (await describeFees(ctx, fees));
    return { line: withTx(line, sent.hash), txHash: sent.hash };
  },
};

export interface ResolveDisputeFlags extends CommonFlags {
  readonly batch?: string;
  readonly leaf?: string;
  readonly uphold?: boolean;
  readonly reject?: boolean;
}

interface ResolveDisputeParsed {
  readonly batchId: bigint;
  readonly leafIndex: bigint;
  readonly upheld: boolean;
}

/** `resolve-dispute`: upholds (`--uphold`, the fee goes back) or rejects (`--reject`) an open dispute. ARBITER_ROLE. */
export const resolveDisputeCommand: AdminCommand<ResolveDisputeFlags, ResolveDisputeParsed, SentOutcome> = {
  parse(flags) {
    return {
      batchId: parseInteger("batch", flags.batch, 1n, UINT256_MAX),
      leafIndex: parseInteger("leaf", flags.leaf, 0n, UINT256_MAX),
      upheld: parseEitherFlag("uphold", flags.uphold === true, "reject", flags.reject === true),
    };
  },
  async run(ctx, parsed) {
    await ctx.requireRole("escrow", "ARBITER_ROLE");
    const totalBatches = await ctx.escrow.totalBatches();
    if (parsed.batchId > totalBatches) {
      const range = totalBatches === 0n ? "the escrow has settled no batch yet" : `ids run from 1 to ${totalBatches}`;
      throw flagError(
        "batch",
        `${parsed.batchId}: no such batch in the escrow at ${ctx.addressOf("escrow")} (${range})`,
      );
    }
    const sent = await ctx.send("escrow", "resolveDispute", () =>
      ctx.escrow.resolveDispute.populateTransaction(parsed.batchId, parsed.leafIndex, parsed.upheld),
    );
    const resolved = escrowEvent(ctx, sent.receipt, "DisputeResolved");
    const vehicleId = resolved.args.getValue("vehicleId") as bigint;
    const what = `dispute of batch ${parsed.batchId} leaf ${parsed.leafIndex} (vehicle ${vehicleId})`;
    let line = `rejected the ${what}: the charge stands`;
    if (parsed.upheld) {
      const token = await ctx.token();
      const forgiven = formatTokenAmount(resolved.args.getValue("forgiven") as bigint, token.decimals);
      const refunded = formatTokenAmount(resolved.args.getValue("refunded") as bigint, token.decimals);
      line = `upheld the ${what}: forgave ${forgiven} ${token.symbol} of arrears, refunded ${refunded} ${token.symbol}`;
    }
    return { line: withTx(line, sent.hash), txHash: sent.hash };
  },
};

/** `pause`: stops scans, revenue releases and claims for at most the escrow's maximum pause. PAUSER_ROLE. */
export const pauseCommand: AdminCommand<CommonFlags, null, SentOutcome> = {
  parse() {
    return null;
  },
  async run(ctx) {
    await ctx.requireRole("escrow", "PAUSER_ROLE");
    const sent = await ctx.send("escrow", "pause", () => ctx.escrow.pause.populateTransaction());
    const until = formatTimestamp(escrowEvent(ctx, sent.receipt, "Paused").args.getValue("until") as bigint);
    const line =
      `paused the escrow until ${until} at the latest: scans, revenue releases and claims stop; ` +
      "deposits, withdrawals and disputes stay open";
    return { line: withTx(line, sent.hash), txHash: sent.hash };
  },
};

/** `unpause`: lifts a pause before it lapses. PAUSER_ROLE. */
export const unpauseCommand: AdminCommand<CommonFlags, null, SentOutcome> = {
  parse() {
    return null;
  },
  async run(ctx) {
    await ctx.requireRole("escrow", "PAUSER_ROLE");
    const sent = await ctx.send("escrow", "unpause", () => ctx.escrow.unpause.populateTransaction());
    return {
      line: withTx("unpaused the escrow: scans, revenue releases and claims resume", sent.hash),
      txHash: sent.hash,
    };
  },
};

/** Fees in the token's smallest units from the operator's text, checked against the escrow's MAX_FEE. */
async function feesInUnits(ctx: AdminContext, text: string): Promise<bigint[]> {
  const [token, maxFee] = await Promise.all([ctx.token(), ctx.escrow.MAX_FEE()]);
  return parseFees("fees", text, token.decimals, maxFee);
}

function toFeeTuple(fees: readonly bigint[]): [bigint, bigint, bigint, bigint, bigint] {
  const [motorcycle = 0n, car = 0n, van = 0n, truck = 0n, bus = 0n] = fees;
  return [motorcycle, car, van, truck, bus];
}

async function describeFees(ctx: AdminContext, fees: readonly bigint[]): Promise<string> {
  const token = await ctx.token();
  const parts = PAYING_CLASSES.map((name, i) => `${name} ${formatTokenAmount(fees[i] ?? 0n, token.decimals)}`);
  return `${parts.join(", ")} ${token.symbol}`;
}

/** The first `name` event the escrow emitted in `receipt`. */
function escrowEvent(ctx: AdminContext, receipt: TransactionReceipt, name: string): LogDescription {
  const escrowAddress = ctx.addressOf("escrow").toLowerCase();
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== escrowAddress) continue;
    const parsed = ctx.escrow.interface.parseLog(log);
    if (parsed !== null && parsed.name === name) return parsed;
  }
  throw new AdminError(`transaction ${receipt.hash} emitted no ${name} event: is ${escrowAddress} the TollEscrow?`);
}
