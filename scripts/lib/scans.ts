/**
 * The scan wire format, the EIP-712 batch signature and the batch commitment of TollEscrow, shared by the oracle
 * relayer, the fleet simulator and the tests. Everything here mirrors `contracts/interfaces/ITollEscrow.sol` byte for
 * byte; change both together or neither.
 */
import { concat, getBytes, hexlify, Interface, keccak256, toBeHex, TypedDataEncoder } from "ethers";
import type { Log, Signer, TypedDataDomain, TypedDataField } from "ethers";

/** One gantry reading: which vehicle, when (unix seconds), and the gantry's own sequence number for it. */
export interface Scan {
  vehicleId: bigint;
  timestamp: bigint;
  sequence: bigint;
}

/** A scan the escrow charged, with the fee it computed: one leaf of the batch commitment. */
export interface ChargedScan extends Scan {
  fee: bigint;
}

/** Mirrors ITollEscrow.SkipReason; the numbers are part of the ABI. */
export enum SkipReason {
  None = 0,
  AlreadySettled = 1,
  UnknownVehicle = 2,
  ScrappedVehicle = 3,
  FutureTimestamp = 4,
  StaleTimestamp = 5,
  RetiredGantry = 6,
}

/** Mirrors ITollEscrow.DisputeStatus. */
export enum DisputeStatus {
  None = 0,
  Open = 1,
  Upheld = 2,
  Rejected = 3,
}

/** Bytes per packed scan record: vehicleId uint48 | timestamp uint40 | sequence uint40. */
export const SCAN_BYTES = 16;
/** Bytes per commitment leaf: the 16-byte record then the fee as uint48. */
export const LEAF_BYTES = 22;

const VEHICLE_ID_BITS = 48n;
const TIMESTAMP_BITS = 40n;
const SEQUENCE_BITS = 40n;
const FEE_BITS = 48n;

export const SCAN_BATCH_DOMAIN_NAME = "platechain TollEscrow";
export const SCAN_BATCH_DOMAIN_VERSION = "1";

/** The EIP-712 types of `ScanBatch(uint32 gantryId,bytes scans)`. */
export const SCAN_BATCH_TYPES: Record<string, TypedDataField[]> = {
  ScanBatch: [
    { name: "gantryId", type: "uint32" },
    { name: "scans", type: "bytes" },
  ],
};

/** The EIP-712 domain of one escrow deployment. */
export function scanBatchDomain(escrowAddress: string, chainId: bigint): TypedDataDomain {
  return {
    name: SCAN_BATCH_DOMAIN_NAME,
    version: SCAN_BATCH_DOMAIN_VERSION,
    chainId,
    verifyingContract: escrowAddress,
  };
}

function checkWidth(name: string, value: bigint, bits: bigint): void {
  if (value < 0n || value >= 1n << bits) {
    throw new RangeError(`${name} ${value} does not fit in uint${bits}`);
  }
}

/** Packs one scan into its 16-byte record, as a 128-bit integer. */
export function packScan(scan: Scan): bigint {
  checkWidth("vehicleId", scan.vehicleId, VEHICLE_ID_BITS);
  checkWidth("timestamp", scan.timestamp, TIMESTAMP_BITS);
  checkWidth("sequence", scan.sequence, SEQUENCE_BITS);
  return (scan.vehicleId << (TIMESTAMP_BITS + SEQUENCE_BITS)) | (scan.timestamp << SEQUENCE_BITS) | scan.sequence;
}

/** Unpacks a 16-byte record given as a 128-bit integer. */
export function unpackScan(record: bigint): Scan {
  const sequenceMask = (1n << SEQUENCE_BITS) - 1n;
  const timestampMask = (1n << TIMESTAMP_BITS) - 1n;
  return {
    vehicleId: record >> (TIMESTAMP_BITS + SEQUENCE_BITS),
    timestamp: (record >> SEQUENCE_BITS) & timestampMask,
    sequence: record & sequenceMask,
  };
}

/**
 * What one `submitScans` transaction may use beyond its scans: base cost, signature and calldata, the EIP-712
 * digest and ecrecover, the gantry, the batch's commitment (a new slot) and revenue. The first batch an escrow
 * ever settles, with one scan, uses about 124,000 in all.
 */
export const SCAN_BATCH_GAS_FIXED = 150_000n;
/**
 * What one scan may add at most: its calldata, a vehicle never funded (its account slot and a debt slot created),
 * flagged stolen (a sighting event), in a settled-scan bitmap word of its own. The gas test's worst batch of 207
 * such scans (the most whose bound fits the per-transaction cap) measures about 76,100 a scan, fixed part included.
 */
export const SCAN_GAS_WORST_CASE = 80_000n;

/**
 * A gas limit that no batch of `scanCount` scans can exceed, whatever the chain's state when it is mined: the
 * escrow's work per scan is bounded (no loops over history), so no estimate is needed, and `submitScansWithinGas`
 * defers none of its scans at this limit. Past the per-transaction cap (more than 207 scans), the cap is the limit
 * and the escrow defers what it does not cover. Holds on chains that price
 * gas as Ethereum does (Ethereum, OP-stack L2s); a chain that adds L1 data costs to the gas used (Arbitrum) needs an
 * estimate instead. `test/toll/TollEscrow.gas.test.ts` checks the worst case against it.
 */
export function scanBatchGasLimit(scanCount: number): bigint {
  if (!Number.isSafeInteger(scanCount) || scanCount < 1) throw new RangeError(`no batch has ${scanCount} scans`);
  return SCAN_BATCH_GAS_FIXED + BigInt(scanCount) * SCAN_GAS_WORST_CASE;
}

/** The `scans` argument of `submitScans`: the hex of the tightly packed records, in order. */
export function encodeScans(scans: readonly Scan[]): string {
  if (scans.length === 0) return "0x";
  return concat(scans.map((scan) => toBeHex(packScan(scan), SCAN_BYTES)));
}

/** The inverse of {@link encodeScans}; throws on a length that is not a whole number of records. */
export function decodeScans(hex: string): Scan[] {
  const bytes = getBytes(hex);
  if (bytes.length % SCAN_BYTES !== 0) {
    throw new RangeError(`scan bytes length ${bytes.length} is not a multiple of ${SCAN_BYTES}`);
  }
  const scans: Scan[] = [];
  for (let offset = 0; offset < bytes.length; offset += SCAN_BYTES) {
    scans.push(unpackScan(BigInt(hexlify(bytes.subarray(offset, offset + SCAN_BYTES)))));
  }
  return scans;
}

/** Signs a batch with an oracle key: the `signature` argument of `submitScans`. */
export async function signScanBatch(
  signer: Pick<Signer, "signTypedData">,
  escrowAddress: string,
  chainId: bigint,
  gantryId: bigint | number,
  scansHex: string,
): Promise<string> {
  return signer.signTypedData(scanBatchDomain(escrowAddress, chainId), SCAN_BATCH_TYPES, {
    gantryId,
    scans: scansHex,
  });
}

/** One commitment leaf, 22 bytes: [ record (16 bytes) | fee uint48 ]. */
export function encodeLeaf(charged: ChargedScan): string {
  checkWidth("fee", charged.fee, FEE_BITS);
  return toBeHex((packScan(charged) << FEE_BITS) | charged.fee, LEAF_BYTES);
}

/** The `leaves` argument of `openDispute`: every charged scan of the batch, in batch order. */
export function encodeLeaves(charged: readonly ChargedScan[]): string {
  if (charged.length === 0) return "0x";
  return concat(charged.map(encodeLeaf));
}

/** The inverse of {@link encodeLeaves}: what a batch charged, from the `leaves` of its BatchSettled event. */
export function decodeLeaves(hex: string): ChargedScan[] {
  const bytes = getBytes(hex);
  if (bytes.length % LEAF_BYTES !== 0) {
    throw new RangeError(`leaves length ${bytes.length} is not a multiple of ${LEAF_BYTES}`);
  }
  const feeMask = (1n << FEE_BITS) - 1n;
  const charged: ChargedScan[] = [];
  for (let offset = 0; offset < bytes.length; offset += LEAF_BYTES) {
    const leaf = BigInt(hexlify(bytes.subarray(offset, offset + LEAF_BYTES)));
    charged.push({ ...unpackScan(leaf >> FEE_BITS), fee: leaf & feeMask });
  }
  return charged;
}

/** The batch commitment exactly as TollEscrow computes it: keccak256 of the leaves' tight concatenation. */
export function batchCommitment(charged: readonly ChargedScan[]): string {
  return keccak256(encodeLeaves(charged));
}

/** The EIP-712 digest an oracle key signs for a batch; equals the escrow's `scanBatchDigest(gantryId, scans)`. */
export function scanBatchDigest(
  escrowAddress: string,
  chainId: bigint,
  gantryId: bigint | number,
  scansHex: string,
): string {
  const domain = scanBatchDomain(escrowAddress, chainId);
  return TypedDataEncoder.hash(domain, SCAN_BATCH_TYPES, {
    gantryId,
    scans: scansHex,
  });
}

const BATCH_SETTLED = new Interface([
  "event BatchSettled(uint256 indexed batchId, uint32 indexed gantryId, bytes32 commitment, uint256 skipped, " +
    "uint256 held, bytes leaves)",
]);

/** What one settled batch charged, as its BatchSettled event tells it. */
export interface SettledBatch {
  /** 0 when the batch charged nothing (no record, nothing to dispute). */
  batchId: bigint;
  gantryId: bigint;
  commitment: string;
  skipped: bigint;
  held: bigint;
  /** The `leaves` bytes as emitted: pass them unchanged to `openDispute`. */
  leaves: string;
  charged: ChargedScan[];
}

/**
 * Finds the escrow's BatchSettled event among the logs of a `submitScans` transaction and decodes it. Throws if the
 * logs hold none, or if the leaves do not hash to the commitment (which would mean a different contract or format).
 */
export function settledBatchFromLogs(escrowAddress: string, logs: readonly Log[]): SettledBatch {
  for (const log of logs) {
    if (log.address.toLowerCase() !== escrowAddress.toLowerCase()) continue;
    const parsed = BATCH_SETTLED.parseLog({
      topics: [...log.topics],
      data: log.data,
    });
    if (parsed === null) continue;
    const batchId = parsed.args.getValue("batchId") as bigint;
    const commitment = parsed.args.getValue("commitment") as string;
    const leaves = parsed.args.getValue("leaves") as string;
    const charged = decodeLeaves(leaves);
    if (batchId !== 0n && keccak256(leaves) !== commitment) {
      throw new Error(`the leaves of batch ${batchId} do not hash to its commitment`);
    }
    return {
      batchId,
      gantryId: parsed.args.getValue("gantryId") as bigint,
      commitment,
      skipped: parsed.args.getValue("skipped") as bigint,
      held: parsed.args.getValue("held") as bigint,
      leaves,
      charged,
    };
  }
  throw new Error("no BatchSettled event of this escrow in these logs");
}
