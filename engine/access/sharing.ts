/**
 * The sharing rules of ingestion batches, and of everything computed from them. Pure.
 *
 * A batch has an owner agency and a sharing level:
 * - `public`: everyone;
 * - `restricted`: the owner and the agencies named in `sharedWith`;
 * - `owner`: the owner only.
 *
 * Anything computed from several batches (a score, a rank, an assessment, an anomaly flag, a
 * trained model) may be read by the intersection of its inputs' readers: an agency must be
 * allowed every input to see the result.
 */
import type { DataScope } from './roles.ts';

export type SharingLevel = 'public' | 'restricted' | 'owner';

export interface BatchSharing {
  readonly id: number;
  readonly ownerAgency: string;
  readonly sharingLevel: SharingLevel;
  readonly sharedWith: readonly string[];
}

/** Whether an agency may read a batch. */
export function agencyMayRead(batch: BatchSharing, agency: string): boolean {
  switch (batch.sharingLevel) {
    case 'public':
      return true;
    case 'restricted':
      return batch.ownerAgency === agency || batch.sharedWith.includes(agency);
    case 'owner':
      return batch.ownerAgency === agency;
  }
}

/** Whether a read under `scope` may use a batch. */
export function scopeAllowsBatch(scope: DataScope, batch: BatchSharing): boolean {
  if (scope.kind === 'all') return true;
  if (scope.kind === 'public') return batch.sharingLevel === 'public';
  return agencyMayRead(batch, scope.agency);
}

/** Who may read something: everyone, or a set of agencies (possibly empty: no one). */
export type Readers = { readonly everyone: true } | { readonly everyone: false; readonly agencies: ReadonlySet<string> };

export const EVERYONE: Readers = Object.freeze({ everyone: true });

export function readersOfBatch(batch: BatchSharing): Readers {
  if (batch.sharingLevel === 'public') return EVERYONE;
  const agencies = new Set([batch.ownerAgency]);
  if (batch.sharingLevel === 'restricted') for (const a of batch.sharedWith) agencies.add(a);
  return { everyone: false, agencies };
}

export function intersectReaders(a: Readers, b: Readers): Readers {
  if (a.everyone) return b;
  if (b.everyone) return a;
  return { everyone: false, agencies: new Set([...a.agencies].filter((x) => b.agencies.has(x))) };
}

/**
 * The readers of a result computed from `batches`: the intersection of their readers. A result
 * of no batches at all (nothing stored yet) is public.
 */
export function readersOfResult(batches: readonly BatchSharing[]): Readers {
  return batches.reduce<Readers>((acc, b) => intersectReaders(acc, readersOfBatch(b)), EVERYONE);
}

/**
 * Whether a read under `scope` may see a result computed from `batches` (every one of them must
 * be allowed). `knownIds` are the ids whose sharing was found: an input batch that no longer
 * exists, or was never found, makes the result unreadable except for the operator.
 */
export function scopeAllowsResult(scope: DataScope, batches: readonly BatchSharing[], inputIds: readonly number[]): boolean {
  if (scope.kind === 'all') return true;
  const known = new Set(batches.map((b) => b.id));
  if (inputIds.some((id) => !known.has(id))) return false;
  return batches.every((b) => scopeAllowsBatch(scope, b));
}

/** Readers as text for an audit entry or an answer: `everyone`, `agency-a, agency-b`, or `no one`. */
export function describeReaders(readers: Readers): string {
  if (readers.everyone) return 'everyone';
  return readers.agencies.size === 0 ? 'no one' : [...readers.agencies].sort().join(', ');
}
