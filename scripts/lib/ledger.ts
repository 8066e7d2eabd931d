/**
 * The driving-record ledger's wire format, EIP-712 type and hash-chain link, shared by reporters, the insurer's
 * reader and the tests. Everything here must agree byte for byte with `IDrivingRecordLedger.sol`.
 */
import { concat, dataSlice, getAddress, getBytes, hexlify, isHexString, keccak256, solidityPacked } from "ethers";
import type { Signer, TypedDataDomain, TypedDataField } from "ethers";

/** Mirrors IDrivingRecordLedger.TrustLevel; the numbers are part of the ABI. */
export const TrustLevel = {
  ReporterAsserted: 0,
  PlateSigned: 1,
} as const;
export type TrustLevel = (typeof TrustLevel)[keyof typeof TrustLevel];

/** Bytes of one record on the wire, signature excluded. */
export const RECORD_SIZE = 74;
/** Bytes of the plate signature that follows a plate-signed record. */
export const SIGNATURE_SIZE = 65;
/** The head of a vehicle's chain before its first record. */
export const GENESIS_HEAD = `0x${"00".repeat(24)}`;
/** Bytes of a chain link's preimage: previous head (24), index (3), reporter (20), wire record (74). */
export const LINK_SIZE = 121;
/** Words of the `link` a RecordAppended log carries: the preimage and 7 zero bytes. */
export const LINK_WORDS = 4;

/**
 * One vehicle's aggregates over one period, as logged by the ledger (IDrivingRecordLedger.DrivingRecord).
 * Every field is at most 40 bits wide, so plain numbers hold them exactly.
 */
export interface DrivingRecord {
  /** First second of the period (inclusive), unix time. */
  readonly periodStart: number;
  /** End of the period (exclusive), unix time. */
  readonly periodEnd: number;
  readonly distanceMeters: number;
  readonly drivingSeconds: number;
  readonly harshBrakingCount: number;
  readonly harshAccelerationCount: number;
  readonly speedingSeconds: number;
  readonly nightDistanceMeters: number;
  /** Commitment to the raw trip data kept off-chain. */
  readonly dataHash: string;
  /** Index (from 1) of the record this one corrects in the same vehicle's chain; 0 for none. */
  readonly corrects: number;
}

/** A record as a reporter submits it: which vehicle, how it is attested, and the plate's signature if any. */
export interface RecordSubmission {
  readonly vehicleId: bigint;
  readonly record: DrivingRecord;
  readonly trust: TrustLevel;
  /** 65-byte r ‖ s ‖ v signature of the plate key; required exactly when `trust` is PlateSigned. */
  readonly signature?: string;
}

/** Field name, width in bits, in wire order (the trust byte follows `corrects`). */
const WIRE_FIELDS: readonly (readonly [keyof DrivingRecord, number])[] = [
  ["periodStart", 40],
  ["periodEnd", 40],
  ["distanceMeters", 40],
  ["drivingSeconds", 32],
  ["harshBrakingCount", 16],
  ["harshAccelerationCount", 16],
  ["speedingSeconds", 32],
  ["nightDistanceMeters", 40],
];

function checkUint(name: string, value: number | bigint, bits: number): bigint {
  const big = BigInt(value);
  if (typeof value === "number" && !Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be an integer, got ${value}`);
  }
  if (big < 0n || big >= 1n << BigInt(bits)) {
    throw new RangeError(`${name} must fit in uint${bits}, got ${big}`);
  }
  return big;
}

/** The 74 wire bytes of a record (signature excluded), as the ledger hashes them into the chain. */
export function encodeRecord(vehicleId: bigint, record: DrivingRecord, trust: TrustLevel): string {
  if (!isHexString(record.dataHash, 32)) throw new RangeError(`dataHash must be 32 bytes, got ${record.dataHash}`);
  const types = ["uint48", ...WIRE_FIELDS.map(([, bits]) => `uint${bits}`), "bytes32", "uint24", "uint8"];
  const values = [
    checkUint("vehicleId", vehicleId, 48),
    ...WIRE_FIELDS.map(([name, bits]) => checkUint(name, record[name] as number, bits)),
    record.dataHash,
    checkUint("corrects", record.corrects, 24),
    checkUint("trust", trust, 8),
  ];
  return solidityPacked(types, values);
}

/** The calldata of `appendRecords`: the records in order, each plate-signed one followed by its signature. */
export function encodeBatch(submissions: readonly RecordSubmission[]): string {
  if (submissions.length === 0) throw new RangeError("a batch needs at least one record");
  const parts = submissions.map((submission, position) => {
    const wire = encodeRecord(submission.vehicleId, submission.record, submission.trust);
    const signed = submission.trust === TrustLevel.PlateSigned;
    if (signed !== (submission.signature !== undefined)) {
      throw new RangeError(`record ${position}: a signature goes with, and only with, a plate-signed record`);
    }
    if (submission.signature === undefined) return wire;
    if (!isHexString(submission.signature, SIGNATURE_SIZE)) {
      throw new RangeError(`record ${position}: the signature must be ${SIGNATURE_SIZE} bytes`);
    }
    return concat([wire, submission.signature]);
  });
  return concat(parts);
}

/** A wire record read back: the vehicle, the fields and the trust byte. */
export interface DecodedRecord {
  readonly vehicleId: bigint;
  readonly record: DrivingRecord;
  readonly trust: TrustLevel;
}

/** Reads the 74 wire bytes of a record (the inverse of {@link encodeRecord}); refuses a trust byte other than 0 or 1. */
export function decodeRecord(wire: string | Uint8Array): DecodedRecord {
  const bytes = getBytes(wire);
  if (bytes.length !== RECORD_SIZE) throw new RangeError(`a record is ${RECORD_SIZE} bytes, got ${bytes.length}`);
  let at = 0;
  // Fields in wire order, each big-endian and `bits` wide (see IDrivingRecordLedger).
  const takeBytes = (length: number): string => {
    const hex = hexlify(bytes.subarray(at, at + length));
    at += length;
    return hex;
  };
  const take = (bits: number): bigint => BigInt(takeBytes(bits / 8));
  const vehicleId = take(48);
  const record: DrivingRecord = {
    periodStart: Number(take(40)),
    periodEnd: Number(take(40)),
    distanceMeters: Number(take(40)),
    drivingSeconds: Number(take(32)),
    harshBrakingCount: Number(take(16)),
    harshAccelerationCount: Number(take(16)),
    speedingSeconds: Number(take(32)),
    nightDistanceMeters: Number(take(40)),
    dataHash: takeBytes(32),
    corrects: Number(take(24)),
  };
  const trust = Number(take(8));
  if (trust !== TrustLevel.ReporterAsserted && trust !== TrustLevel.PlateSigned) {
    throw new RangeError(`record of vehicle ${vehicleId}: trust byte ${trust} is neither 0 nor 1`);
  }
  return { vehicleId, record, trust };
}

/** One chain link as a RecordAppended log carries it, with the head it makes. */
export interface RecordLink extends DecodedRecord {
  /** The vehicle's head before this record. */
  readonly previousHead: string;
  /** Position of the record in the vehicle's chain, from 1. */
  readonly index: number;
  /** The account that appended it. */
  readonly reporter: string;
  /** The vehicle's head after this record: bytes24(keccak256(preimage)). */
  readonly head: string;
}

/**
 * Reads the `link` words of a RecordAppended log: the 121-byte preimage of the chain link (previous head, index,
 * reporter, wire record) and 7 zero bytes. Refuses anything else, so a log that is not the ledger's fails loudly.
 */
export function decodeLink(words: readonly string[]): RecordLink {
  if (words.length !== LINK_WORDS) throw new RangeError(`a link is ${LINK_WORDS} words, got ${words.length}`);
  for (const word of words) {
    if (!isHexString(word, 32)) throw new RangeError(`a link word must be 32 bytes, got ${word}`);
  }
  const bytes = getBytes(concat([...words]));
  if (bytes.subarray(LINK_SIZE).some((byte) => byte !== 0)) {
    throw new RangeError("a link's last 7 bytes must be zero");
  }
  const preimage = bytes.subarray(0, LINK_SIZE);
  return {
    previousHead: hexlify(preimage.subarray(0, 24)),
    index: Number(BigInt(hexlify(preimage.subarray(24, 27)))),
    reporter: getAddress(hexlify(preimage.subarray(27, 47))),
    ...decodeRecord(preimage.subarray(47)),
    head: dataSlice(keccak256(preimage), 0, 24),
  };
}

/** A chain link's 121-byte preimage: previousHead ‖ uint24 index ‖ reporter ‖ wire record. */
export function linkPreimage(
  previousHead: string,
  index: number,
  reporter: string,
  vehicleId: bigint,
  record: DrivingRecord,
  trust: TrustLevel,
): string {
  return solidityPacked(
    ["bytes24", "uint24", "address", "bytes"],
    [previousHead, checkUint("index", index, 24), getAddress(reporter), encodeRecord(vehicleId, record, trust)],
  );
}

/** The `link` words a RecordAppended log carries for a record: its preimage and 7 zero bytes (see {@link decodeLink}). */
export function encodeLink(...args: Parameters<typeof linkPreimage>): string[] {
  const padded = getBytes(concat([linkPreimage(...args), new Uint8Array(LINK_WORDS * 32 - LINK_SIZE)]));
  return Array.from({ length: LINK_WORDS }, (_, word) => hexlify(padded.subarray(word * 32, (word + 1) * 32)));
}

/** The link the ledger computes: bytes24(keccak256(previousHead ‖ uint24 index ‖ reporter ‖ wire record)). */
export function nextHead(...args: Parameters<typeof linkPreimage>): string {
  return dataSlice(keccak256(linkPreimage(...args)), 0, 24);
}

/** The EIP-712 domain of a ledger deployment. */
export function ledgerDomain(chainId: bigint, ledgerAddress: string): TypedDataDomain {
  return { name: "platechain DrivingRecordLedger", version: "1", chainId, verifyingContract: ledgerAddress };
}

/** The EIP-712 type a plate key signs: IDrivingRecordLedger's `DrivingRecord` with the vehicle id first. */
export const DRIVING_RECORD_TYPES: Record<string, TypedDataField[]> = {
  DrivingRecord: [
    { name: "vehicleId", type: "uint256" },
    { name: "periodStart", type: "uint40" },
    { name: "periodEnd", type: "uint40" },
    { name: "distanceMeters", type: "uint40" },
    { name: "drivingSeconds", type: "uint32" },
    { name: "harshBrakingCount", type: "uint16" },
    { name: "harshAccelerationCount", type: "uint16" },
    { name: "speedingSeconds", type: "uint32" },
    { name: "nightDistanceMeters", type: "uint40" },
    { name: "dataHash", type: "bytes32" },
    { name: "corrects", type: "uint24" },
  ],
};

/** The plate key's signature of a record, ready for {@link encodeBatch}. */
export async function signRecord(
  plate: Signer,
  domain: TypedDataDomain,
  vehicleId: bigint,
  record: DrivingRecord,
): Promise<string> {
  return plate.signTypedData(domain, DRIVING_RECORD_TYPES, { vehicleId, ...record });
}
