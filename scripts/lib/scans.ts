/**
 * The scan wire format, the EIP-712 batch signature and the batch commitment of TollEscrow, shared by the oracle
 * relayer, the fleet simulator and the tests. Everything here mirrors `contracts/interfaces/ITollEscrow.sol` byte for
 * byte; change both together or neither.
 */
import { concat, getBytes, hexlify, Interface, keccak256, toBeHex, TypedDataEncoder, zeroPadValue } from "ethers";
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
/** Bytes per commitment leaf: the 16-byte record then the fee as uint128. */
export const LEAF_BYTES = 32;

const VEHICLE_ID_BITS = 48n;
const TIMESTAMP_BITS = 40n;
const SEQUENCE_BITS = 40n;
const FEE_BITS = 128n;

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

/** One commitment leaf: [ record (16 bytes) | fee uint128 ]. */
export function encodeLeaf(charged: ChargedScan): string {
  checkWidth("fee", charged.fee, FEE_BITS);
  return zeroPadValue(toBeHex((packScan(charged) << FEE_BITS) | charged.fee), LEAF_BYTES);
}

/** The `leaves` argument of `openDispute`: every charged scan of the batch, in batch order. */
export function encodeLeaves(charged: readonly ChargedScan[]): string {
  if (charged.length === 0) return "0x";
  return concat(charged.map(encodeLeaf));
}

/** The batch commitment exactly as TollEscrow computes it: keccak256 of the leaves' concatenation. */
export function batchCommitment(charged: readonly ChargedScan[]): string {
  return keccak256(encodeLeaves(charged));
}

const ESCROW_EVENTS = new Interface([
  "event ScanCharged(uint256 indexed vehicleId, uint32 indexed gantryId, uint64 sequence, uint64 timestamp, uint256 paid, uint256 unpaid)",
  "event BatchSettled(uint256 indexed batchId, uint32 indexed gantryId, bytes32 commitment, uint256 charged, uint256 skipped, uint256 held)",
]);

/** What one settled batch charged, rebuilt from the logs of its transaction. */
export interface SettledBatch {
  batchId: bigint;
  gantryId: bigint;
  commitment: string;
  charged: ChargedScan[];
}

/**
 * Rebuilds a batch's leaves from the escrow's logs in its transaction receipt (ScanCharged events, in log order,
 * then its BatchSettled event), for a dispute. Pass the logs of one transaction; throws if they hold no batch.
 */
export function settledBatchFromLogs(escrowAddress: string, logs: readonly Log[]): SettledBatch {
  const charged: ChargedScan[] = [];
  for (const log of logs) {
    if (log.address.toLowerCase() !== escrowAddress.toLowerCase()) continue;
    const parsed = ESCROW_EVENTS.parseLog({ topics: [...log.topics], data: log.data });
    if (parsed === null) continue;
    if (parsed.name === "ScanCharged") {
      const paid = parsed.args.getValue("paid") as bigint;
      const unpaid = parsed.args.getValue("unpaid") as bigint;
      charged.push({
        vehicleId: parsed.args.getValue("vehicleId") as bigint,
        timestamp: parsed.args.getValue("timestamp") as bigint,
        sequence: parsed.args.getValue("sequence") as bigint,
        fee: paid + unpaid,
      });
    } else {
      const batchId = parsed.args.getValue("batchId") as bigint;
      const commitment = parsed.args.getValue("commitment") as string;
      if (batchId === 0n) throw new Error("the batch charged nothing: there is no commitment to prove against");
      if (batchCommitment(charged) !== commitment) {
        throw new Error(`rebuilt leaves do not match the commitment of batch ${batchId}`);
      }
      return {
        batchId,
        gantryId: parsed.args.getValue("gantryId") as bigint,
        commitment,
        charged,
      };
    }
  }
  throw new Error("no BatchSettled event in these logs");
}

/** The EIP-712 digest an oracle key signs for a batch; equals the escrow's `scanBatchDigest(gantryId, scans)`. */
export function scanBatchDigest(escrowAddress: string, chainId: bigint, gantryId: bigint | number, scansHex: string): string {
  return TypedDataEncoder.hash(scanBatchDomain(escrowAddress, chainId), SCAN_BATCH_TYPES, { gantryId, scans: scansHex });
}
