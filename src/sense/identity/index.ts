// Identity resolution: Fellegi–Sunter matching with EM-estimated parameters, blocking and guarded clustering.
export { resolvePeople, pairwiseScores, DEFAULT_RULES, IdentityIndex, type IncrementalMatch, type MatchRule, type ResolveOptions, type ResolveResult, type FieldParameters } from './engine.ts';
export { jaroWinkler, withinOneEdit, soundex, compareDates, compareCodes, compareText, nicknameIndex, personComparisons } from './compare.ts';
export { readPeopleCsv, febrlTruth, normalizeValue, type PeopleFile } from './people-csv.ts';
export { PERSON_FIELDS, type PersonField, type PersonRecord } from './types.ts';
export { NICKNAMES } from './nicknames.ts';
export { generatePeople } from './synthetic.ts';
