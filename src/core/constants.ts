/**
 * Every bound of the core, named with its unit and the bound last. Each is imported where it is
 * used; test/core/constants.test.ts asserts how they relate to each other and to the bounds of
 * other layers (a key's whole state must fit in one frame, with the message around it).
 */
export const KIB = 1024;
export const MIB = 1024 * KIB;

export const CORE_LIMITS = {
  /** Longest key, in UTF-8 bytes (the API answers 414 past it). */
  keyBytesMax: 1024,
  /** The most the `maxValueBytes` setting may be (the configuration refuses more). */
  valueBytesMax: 4 * MIB,
  /** Longest node id (the configuration refuses more); an actor id adds `~` and an incarnation. */
  nodeIdCharsMax: 64,
  /**
   * Largest encoded state of one key a write may create. Replicas exchange whole states in one
   * frame, so it stays below the transport's 8 MiB frame payload with room for the message
   * around it; a write that would grow a state past it is refused (413 value_too_large).
   */
  stateBytesMax: 7 * MIB,
  /**
   * Bytes a message may add around one state: its type, id, key (at most `keyBytesMax`) and the
   * envelope's node ids. The frame must hold `stateBytesMax + stateEnvelopeBytesMax`.
   */
  stateEnvelopeBytesMax: 64 * KIB,
  /**
   * Past this many vector-clock entries, entries that have not advanced for `clockYoungMs` are
   * pruned, oldest first (Riak's `small_vclock`; Dynamo pruned at 10 regardless of age, which
   * lets a superseded version come back while a replica still holds it).
   */
  clockEntriesSoftMax: 16,
  /** No key's context keeps more entries than this, whatever their age (the oldest go first). */
  clockEntriesMax: 64,
  /**
   * An entry that advanced less than this long ago (by the writing coordinator's clock) is never
   * pruned below `clockEntriesMax`: a replica that missed the write that superseded a version
   * learns of it by read repair, hints or anti-entropy well within this (Riak's `young_vclock`
   * is 20 s; an hour leaves room for a long partition).
   */
  clockYoungMs: 60 * 60_000,
  /**
   * How many single dots a context keeps; past it some are forgotten (knowledge lost, never a
   * version: at worst a superseded version shows up again as a sibling).
   */
  cloudDotsMax: 32,
  /**
   * Largest counter a decoded context or state may carry. Far beyond any real count of writes,
   * it leaves room below 2^53 so that a counter can always be incremented and encoded: a forged
   * context with a huge counter is refused instead of breaking the key forever.
   */
  counterMax: 2 ** 48,
  /**
   * Largest counter a client's context may carry (a token above it is a 400): far below
   * `counterMax`, so a forged context can never bring a key's counter near the bound.
   */
  clientCounterMax: 2 ** 47 - 1,
  /** Clock entries or dots a decoder accepts in one context (bounds the work of hostile input). */
  decodedEntriesMax: 1024,
  /** Longest context token accepted (a context is small; this bounds a hostile header's work). */
  contextTokenCharsMax: 16 * KIB,
  /** Most partitions a ring may have (Q is a power of two up to this). */
  partitionCountMax: 1 << 20,
  /** Stored ring metadata (members and settings, not the partition table) larger than this is refused. */
  ringMetaBytesMax: 1 * MIB,
  /** Members one ring may have. */
  ringMembersMax: 4096,
  /** Departed members a node keeps showing as `left` (the oldest is forgotten first). */
  departedMembersMax: 64,
  /** Largest claim weight of a member (the config's bound; weights are relative shares). */
  memberWeightMax: 1000,
} as const;

export const KV_TIMING = {
  /**
   * A read asks the replicas its level needs; when they have not all answered after this long,
   * it asks the others too (Cassandra's speculative retry): a replica that died a moment ago,
   * before the failure detector says so, costs a read this much instead of its whole timeout.
   */
  readSpareAfterMs: 50,
} as const;
