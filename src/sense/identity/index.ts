// Identity resolution: Fellegi–Sunter matching with EM-estimated parameters, blocking and guarded clustering.
// Owns tables identity_people, identity_blocks, identity_merges, identity_reviews, identity_settings and identity_models
// (their SQL is in identity.repo.ts).
export {
  resolvePeople,
  pairwiseScores,
  blockingKeys,
  DEFAULT_RULES,
  IdentityIndex,
  Matcher,
  type MatchModel,
  type PairExplanation,
  type IncrementalMatch,
  type MatchRule,
  type ResolveOptions,
  type ResolveResult,
  type FieldParameters,
} from './engine.ts';
export {
  jaroWinkler,
  withinOneEdit,
  soundex,
  compareDates,
  compareCodes,
  compareText,
  nicknameIndex,
  personComparisons,
} from './compare.ts';
export { readPeopleCsv, febrlTruth, normalizeValue, type PeopleFile } from './people-csv.ts';
export { PERSON_FIELDS, type PersonField, type PersonRecord } from './types.ts';
export { NICKNAMES } from './nicknames.ts';
export { generatePeople } from './synthetic.ts';
// In the product: person records with lineage, merges and the steward's reviews, settings and the fitted model.
export {
  personFields,
  recordPersonFields,
  identifiesPerson,
  registerPeople,
  forgetPeople,
  bestCandidate,
  type PersonEntry,
  type PersonFields,
} from './people.ts';
export { resolveNewProfiles, type Placement } from './resolve.ts';
export {
  mergeProfiles,
  stewardMerge,
  unmergeProfiles,
  listMerges,
  mergeHistory,
  listReviews,
  decideReview,
  profilePeople,
  unify,
  REVIEW_STATUSES,
  type MergeRecord,
  type MergeHistoryItem,
  type IdentityReview,
  type PersonLineage,
  type UnifiedField,
} from './merges.ts';
export { IdentitySettings, loadIdentitySettings, saveIdentitySettings, fitIdentityModel, loadMatcher, defaultModel } from './settings.ts';
export * from './identity.repo.ts';
