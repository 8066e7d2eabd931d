/**
 * The scan batch wire format of ITollEscrow: 16-byte records `vehicleId uint48 | timestamp uint40 | sequence uint40`
 * (big-endian, tightly packed), signed as EIP-712 `ScanBatch(uint32 gantryId,bytes scans)` in the domain
 * { name "platechain TollEscrow", version "1", chainId, verifyingContract }.
 *
 * TODO(reconcile): `scripts/lib/scans.ts` (branch `escrow`) is the shared implementation with the same function
 * signatures; once it is merged the relayer imports it and this file goes.
 */
import { getBytes, hexlify, type Signer, type TypedDataDomain } from "ethers";

export interface Scan {
  readonly vehicleId: bigint;
  readonly timestamp: bigint;
  readonly sequence: bigint;
}

export const SCAN_BYTES = 16;

const UINT48_MAX = (1n << 48n) - 1n;
const UINT40_MAX = (1n << 40n) - 1n;

export const SCAN_BATCH_TYPES = {
  ScanBatch: [
    { name: "gantryId", type: "uint32" },
    { name: "scans", type: "bytes" },
  ],
} as const;

/** The escrow's EIP-712 domain. */
export function scanBatchDomain(escrowAddress: string, chainId: bigint): TypedDataDomain {
  return { name: "platechain TollEscrow", version: "1", chainId, verifyingContract: escrowAddress };
}

/** Packs scans into the `scans` bytes of `submitScans`. */
export function encodeScans(scans: readonly Scan[]): string {
  const out = new Uint8Array(scans.length * SCAN_BYTES);
  scans.forEach((scan, index) => {
    checkRange("vehicleId", scan.vehicleId, UINT48_MAX);
    checkRange("timestamp", scan.timestamp, UINT40_MAX);
    checkRange("sequence", scan.sequence, UINT40_MAX);
    const packed = (scan.vehicleId << 80n) | (scan.timestamp << 40n) | scan.sequence;
    out.set(toBytes16(packed), index * SCAN_BYTES);
  });
  return hexlify(out);
}

/** Unpacks the `scans` bytes of `submitScans`. */
export function decodeScans(hex: string): Scan[] {
  const bytes = getBytes(hex);
  if (bytes.length % SCAN_BYTES !== 0) throw new Error(`scans: ${bytes.length} bytes is not a whole number of scans`);
  const scans: Scan[] = [];
  for (let offset = 0; offset < bytes.length; offset += SCAN_BYTES) {
    const packed = BigInt(hexlify(bytes.subarray(offset, offset + SCAN_BYTES)));
    scans.push({ vehicleId: packed >> 80n, timestamp: (packed >> 40n) & UINT40_MAX, sequence: packed & UINT40_MAX });
  }
  return scans;
}

/** The oracle's EIP-712 signature over a batch: the `signature` argument of `submitScans`. */
export async function signScanBatch(
  oracle: Pick<Signer, "signTypedData">,
  escrowAddress: string,
  chainId: bigint,
  gantryId: bigint | number,
  scansHex: string,
): Promise<string> {
  const types = { ScanBatch: [...SCAN_BATCH_TYPES.ScanBatch] };
  return oracle.signTypedData(scanBatchDomain(escrowAddress, chainId), types, { gantryId, scans: scansHex });
}

function checkRange(field: string, value: bigint, max: bigint): void {
  if (value < 0n || value > max) throw new RangeError(`scan ${field} ${value} does not fit the wire format`);
}

function toBytes16(value: bigint): Uint8Array {
  const out = new Uint8Array(SCAN_BYTES);
  let rest = value;
  for (let index = SCAN_BYTES - 1; index >= 0; index--) {
    out[index] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}
