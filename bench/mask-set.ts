/**
 * A labelled set for the PII masker: short customer messages built from seeded templates, each with the exact
 * spans of the personal data planted in it, and hard negatives (order numbers, dates, amounts, 16-digit numbers
 * that fail Luhn, tracking codes, version strings…) that a masker should leave alone.
 *
 * Every template and value format here is written for this set. The same seed gives the same set; the benchmark
 * develops on one seed and reports on another.
 */
import { integer, pick, stream, type Rng } from '../src/lib/index.ts';
import { luhnValid, tfnValid } from '../src/trust/index.ts';

export type LabelType = 'email' | 'phone' | 'card' | 'iban' | 'ssn' | 'nino' | 'tfn' | 'address' | 'name';

export interface LabelledSpan {
  type: LabelType;
  start: number;
  end: number;
}

export interface MaskExample {
  text: string;
  /** The names the profile knows (passed to the masker as `names`). */
  names: string[];
  entities: LabelledSpan[];
}

const FIRST = [
  'Jane',
  'Liam',
  'Priya',
  'Mohammed',
  'Chloe',
  'Kenji',
  'Olivia',
  'Mateo',
  'Aroha',
  'Siobhan',
  'Wei',
  'Fatima',
  'Noah',
  'Zoe',
  'Tomasz',
  'Ngozi',
];
const LAST = [
  'Citizen',
  'Nguyen',
  'Okafor',
  'Smith',
  'Rossi',
  'Tanaka',
  "O'Brien",
  'Kowalski',
  'Patel',
  'Garcia',
  'Murphy',
  'Haddad',
  'Walker',
  'Costa',
  'Li',
  'Schmidt',
];
const DOMAINS = ['example.com', 'mail.example.org', 'example.com.au', 'corp.example.co.uk', 'example.net', 'inbox.example.io'];
const TAGS = ['bills', 'news', 'telco', 'work', 'x1'];

const digits = (rng: Rng, n: number) => Array.from({ length: n }, () => integer(rng, 0, 9)).join('');

function email(rng: Rng, first: string, last: string): string {
  const f = first.toLowerCase().replace(/[^a-z]/g, '');
  const l = last.toLowerCase().replace(/[^a-z]/g, '');
  const local = pick(rng, [
    `${f}.${l}`,
    `${f}${l}`,
    `${f[0]}.${l}${integer(rng, 1, 99)}`,
    `${f}+${pick(rng, TAGS)}`,
    `${f}.${l}+${pick(rng, TAGS)}`,
    `${f}_${l}`,
    `${l}-${f}`,
    `${first}.${last.replace(/'/g, '')}`,
  ]);
  return `${local}@${pick(rng, DOMAINS)}`;
}

const US_AREAS = ['212', '415', '312', '617', '206', '512', '303', '404', '713', '305', '646', '818'];

function phone(rng: Rng): string {
  const kind = integer(rng, 0, 5);
  if (kind === 0 || kind === 1) {
    const a = pick(rng, US_AREAS);
    let ex = `${integer(rng, 2, 9)}${digits(rng, 2)}`;
    if (ex === '555' || ex.endsWith('11')) ex = '736';
    const line = digits(rng, 4);
    return pick(rng, [
      `(${a}) ${ex}-${line}`,
      `${a}-${ex}-${line}`,
      `${a}.${ex}.${line}`,
      `+1 ${a} ${ex} ${line}`,
      `+1-${a}-${ex}-${line}`,
      `1 (${a}) ${ex}-${line}`,
    ]);
  }
  if (kind === 2) {
    const m = `4${integer(rng, 0, 9)}${digits(rng, 7)}`; // 04xx xxx xxx after the trunk 0
    return pick(rng, [
      `0${m.slice(0, 3)} ${m.slice(3, 6)} ${m.slice(6)}`,
      `0${m}`,
      `+61 ${m.slice(0, 3)} ${m.slice(3, 6)} ${m.slice(6)}`,
      `+61${m}`,
      `+61 (0)${m.slice(0, 3)} ${m.slice(3, 6)} ${m.slice(6)}`,
    ]);
  }
  if (kind === 3) {
    const area = pick(rng, ['2', '3', '7', '8']);
    const local = `${pick(rng, ['9', '8'])}${digits(rng, 7)}`;
    return pick(rng, [
      `(0${area}) ${local.slice(0, 4)} ${local.slice(4)}`,
      `0${area} ${local.slice(0, 4)} ${local.slice(4)}`,
      `+61 ${area} ${local.slice(0, 4)} ${local.slice(4)}`,
    ]);
  }
  if (kind === 4) {
    const mobile = `7${pick(rng, ['4', '5', '7', '8', '9'])}${digits(rng, 8)}`;
    const london = `20 7${digits(rng, 3)} ${digits(rng, 4)}`;
    return pick(rng, [
      `0${mobile.slice(0, 4)} ${mobile.slice(4)}`,
      `+44 ${mobile.slice(0, 4)} ${mobile.slice(4)}`,
      `0${london}`,
      `+44 ${london}`,
      `+44 (0)${london}`,
    ]);
  }
  // Other countries in international form: French and German mobiles.
  return pick(rng, [
    `+33 6 ${digits(rng, 2)} ${digits(rng, 2)} ${digits(rng, 2)} ${digits(rng, 2)}`,
    `+49 151 ${digits(rng, 8)}`,
    `+49 (0)151 ${digits(rng, 8)}`,
  ]);
}

/** Appends the Luhn check digit to `body`. */
function withLuhn(body: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  throw new Error('unreachable');
}

function cardDigits(rng: Rng): string {
  const brand = integer(rng, 0, 6);
  if (brand === 0 || brand === 1) return withLuhn(`4${digits(rng, 14)}`);
  if (brand === 2) return withLuhn(`5${integer(rng, 1, 5)}${digits(rng, 13)}`);
  if (brand === 3) return withLuhn(`${integer(rng, 2221, 2720)}${digits(rng, 11)}`);
  if (brand === 4) return withLuhn(`3${pick(rng, ['4', '7'])}${digits(rng, 12)}`);
  if (brand === 5) return withLuhn(`6011${digits(rng, 11)}`);
  return withLuhn(`35${integer(rng, 28, 89)}${digits(rng, 11)}`);
}

function formatCard(rng: Rng, d: string): string {
  const sep = pick(rng, [' ', '-', '']);
  if (d.length === 15) return [d.slice(0, 4), d.slice(4, 10), d.slice(10)].join(sep);
  return d.match(/.{1,4}/g)!.join(sep);
}

const IBAN_SHAPES: Record<string, (rng: Rng) => string> = {
  GB: (rng) => `${pick(rng, ['WEST', 'NWBK', 'BARC', 'MIDL'])}${digits(rng, 14)}`,
  DE: (rng) => digits(rng, 18),
  FR: (rng) => `${digits(rng, 10)}${digits(rng, 11)}${digits(rng, 2)}`,
  NL: (rng) => `${pick(rng, ['ABNA', 'INGB', 'RABO'])}${digits(rng, 10)}`,
  ES: (rng) => digits(rng, 20),
  IT: (rng) => `${pick(rng, ['X', 'A', 'K'])}${digits(rng, 10)}${digits(rng, 12)}`,
  BE: (rng) => digits(rng, 12),
  CH: (rng) => digits(rng, 17),
  IE: (rng) => `${pick(rng, ['AIBK', 'BOFI'])}${digits(rng, 14)}`,
};

function mod97(s: string): number {
  let r = 0;
  for (const ch of s) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    r = v > 9 ? (r * 100 + v) % 97 : (r * 10 + v) % 97;
  }
  return r;
}

function iban(rng: Rng): string {
  const country = pick(rng, Object.keys(IBAN_SHAPES));
  const bban = IBAN_SHAPES[country]!(rng);
  const check = String(98 - mod97(`${bban}${country}00`)).padStart(2, '0');
  const whole = `${country}${check}${bban}`;
  return pick(rng, [whole, whole.match(/.{1,4}/g)!.join(' '), whole.match(/.{1,4}/g)!.join(' ')]);
}

function ssn(rng: Rng): string {
  let area = integer(rng, 1, 899);
  if (area === 666) area = 667;
  const s = `${String(area).padStart(3, '0')}${pick(rng, ['-', ' '])}${String(integer(rng, 1, 99)).padStart(2, '0')}`;
  return `${s}${s[3]}${String(integer(rng, 1, 9999)).padStart(4, '0')}`;
}

function nino(rng: Rng): string {
  const first = 'ABCEGHJKLMNOPRSTWXYZ';
  const second = 'ABCEGHJKLMNPRSTWXYZ';
  let prefix = '';
  do prefix = pick(rng, [...first]) + pick(rng, [...second]);
  while (['BG', 'GB', 'KN', 'NK', 'NT', 'TN', 'ZZ'].includes(prefix));
  const d = digits(rng, 6);
  const suffix = pick(rng, ['A', 'B', 'C', 'D']);
  return pick(rng, [`${prefix} ${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4)} ${suffix}`, `${prefix}${d}${suffix}`]);
}

function tfn(rng: Rng): string {
  for (let i = 0; i < 1000; i++) {
    const d = digits(rng, 9);
    if (tfnValid(d)) return `${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6)}`;
  }
  return '123 456 782';
}

const STREETS = [
  'Smith',
  'Queen',
  'Old Bridge',
  'Harbour View',
  'Wattle',
  'Baker',
  'Elm',
  'Pennsylvania',
  'King William',
  'Station',
  'Mill',
  'Church',
];
const SUFFIX = [
  'Street',
  'St',
  'Road',
  'Rd',
  'Avenue',
  'Ave',
  'Lane',
  'Drive',
  'Court',
  'Place',
  'Terrace',
  'Crescent',
  'Parade',
  'Way',
  'Boulevard',
  'Close',
];
const LOCALITIES = [
  'Richmond VIC 3121',
  'Surry Hills NSW 2010',
  'Fortitude Valley QLD 4006',
  'Austin, TX 78701',
  'Springfield, IL 62704',
  'London NW1 6XE',
  'Manchester M1 1AE',
  'Wellington 6011',
];

function address(rng: Rng): string {
  const unit = pick(rng, ['', '', '', `Unit ${integer(rng, 1, 40)}, `, `Apt ${integer(rng, 1, 400)}, `, `Flat ${integer(rng, 1, 9)}, `]);
  const num = pick(rng, [
    String(integer(rng, 1, 999)),
    `${integer(rng, 1, 250)}${pick(rng, ['A', 'B'])}`,
    `${integer(rng, 1, 20)}/${integer(rng, 1, 300)}`,
  ]);
  const street = `${num} ${pick(rng, STREETS)} ${pick(rng, SUFFIX)}`;
  const po = `PO Box ${integer(rng, 1, 9999)}`;
  const base = rng.next() < 0.12 ? po : `${unit}${street}`;
  return pick(rng, [base, `${base}, ${pick(rng, LOCALITIES)}`, `${base}, ${pick(rng, LOCALITIES)}`]);
}

// Hard negatives: things with digits (or an "@"-less handle) that are not personal data.
function negative(rng: Rng): string {
  const invalidCard = () => {
    const d = cardDigits(rng);
    const bad = d.slice(0, -1) + String((Number(d.slice(-1)) + integer(rng, 1, 9)) % 10);
    return formatCard(rng, bad);
  };
  return pick(rng, [
    () => `Order ORD-${integer(rng, 2019, 2026)}-${digits(rng, 6)} has not arrived.`,
    () => `My order #${digits(rng, 8)} is late.`,
    () => `Invoice INV-${digits(rng, 6)} shows ${pick(rng, ['$', 'AUD ', '£', '€'])}${integer(rng, 1, 2999)}.${digits(rng, 2)}.`,
    () =>
      `I was billed $${integer(rng, 1, 9)},${digits(rng, 3)}.${digits(rng, 2)} on ${integer(rng, 1, 28)}/${integer(rng, 1, 12)}/${integer(rng, 2019, 2026)}.`,
    () =>
      `It started on ${integer(rng, 2019, 2026)}-${String(integer(rng, 1, 12)).padStart(2, '0')}-${String(integer(rng, 1, 28)).padStart(2, '0')} at ${integer(rng, 0, 23)}:${digits(rng, 2)}.`,
    () => `The number ${invalidCard()} on the letter is not mine.`,
    () => `Reference ${invalidCard()} please.`,
    () => `Tracking 1Z${digits(rng, 3)}AA1${digits(rng, 8)} shows no movement.`,
    () => `Parcel ${pick(rng, ['AB', 'RR', 'LX'])}${digits(rng, 9)}AU was returned.`,
    () => `The app is version ${integer(rng, 1, 12)}.${integer(rng, 0, 30)}.${integer(rng, 0, 99)} on my phone.`,
    () => `Firmware v${integer(rng, 1, 9)}.${integer(rng, 0, 9)}.${digits(rng, 4)}-rc${integer(rng, 1, 5)} keeps crashing.`,
    () => `Ticket ${digits(rng, 7)} was closed without a fix.`,
    () => `The router at 192.168.${integer(rng, 0, 255)}.${integer(rng, 1, 254)} drops out every ${integer(rng, 2, 59)} minutes.`,
    () => `I have used ${integer(rng, 10, 999)}.${digits(rng, 1)} GB of my ${pick(rng, ['50', '100', '250'])} GB plan.`,
    () =>
      `Plan code TEL-${digits(rng, 4)}-${pick(rng, ['X', 'P', 'Q'])} was applied on ${integer(rng, 1, 28)}.${integer(rng, 1, 12)}.${integer(rng, 2019, 2026)}.`,
    () => `Case ${digits(rng, 4)}-${digits(rng, 4)}-${digits(rng, 4)}-${digits(rng, 4)}-${digits(rng, 3)} is still open.`,
    () => `Account ${digits(rng, 8)} was credited ${integer(rng, 5, 200)} dollars.`,
    () => `We are ${integer(rng, 2, 9)} people in ${integer(rng, 2, 6)} rooms.`,
    () => `Call the store between 9 and 5 on weekdays.`,
    () => `Serial SN${digits(rng, 12)} came in the box.`,
  ])();
}

type Slot = { type: LabelType; value: string } | string;

/** One clause per type, in several shapes. Each returns the pieces of the clause: text and labelled slots. */
function clause(rng: Rng, type: LabelType, person: { first: string; last: string }): Slot[] {
  const v = (value: string): Slot => ({ type, value });
  switch (type) {
    case 'email': {
      const e = v(email(rng, person.first, person.last));
      return pick(rng, [
        ['Please email me at ', e, '.'],
        ['My new address is ', e, ' from now on.'],
        ['Send the bill to ', e, ' instead.'],
        ['(', e, ') is the right contact.'],
        ['Contact: ', e],
        ['I never got the reset link at <', e, '>.'],
      ]);
    }
    case 'phone': {
      const p = v(phone(rng));
      return pick(rng, [
        ['Call me on ', p, '.'],
        ['My mobile is ', p, ', after 5pm is best.'],
        ['You can reach me at ', p, ' or by text.'],
        ['Number: ', p],
        ['I tried ', p, ' three times and nobody answered.'],
        ['Ph ', p, ' (mobile)'],
      ]);
    }
    case 'card': {
      const c = v(formatCard(rng, cardDigits(rng)));
      return pick(rng, [
        ['My card ', c, ' was charged twice.'],
        ['Please charge ', c, ' for the upgrade.'],
        ['The payment on card number ', c, ' failed.'],
        ['Card: ', c, ', expiry ', `${String(integer(rng, 1, 12)).padStart(2, '0')}/${integer(rng, 26, 31)}`, '.'],
        ['Refund it to ', c, ' please.'],
      ]);
    }
    case 'iban': {
      const i = v(iban(rng));
      return pick(rng, [
        ['Please refund to IBAN ', i, '.'],
        ['My bank account is ', i, ' at the same bank.'],
        ['Direct debit from ', i, ' should stop.'],
        ['IBAN: ', i],
        ['Pay the credit into ', i, ', thanks.'],
      ]);
    }
    case 'ssn': {
      const s = v(ssn(rng));
      return pick(rng, [
        ['My SSN is ', s, '.'],
        ['Social security number ', s, ' was on the form.'],
        ['For the credit check: ', s],
      ]);
    }
    case 'nino': {
      const n = v(nino(rng));
      return pick(rng, [
        ['My National Insurance number is ', n, '.'],
        ['NI number ', n, ' for the record.'],
        ['NINO: ', n],
      ]);
    }
    case 'tfn': {
      const t = v(tfn(rng));
      return pick(rng, [
        ['My tax file number is ', t, '.'],
        ['TFN ', t, ' is on my file.'],
        ['They asked for my TFN (', t, ') on the phone.'],
      ]);
    }
    case 'address': {
      const a = v(address(rng));
      return pick(rng, [
        ['I moved to ', a, ' last month.'],
        ['Please send the modem to ', a, '.'],
        ['The outage is at ', a, ' and around it.'],
        ['Address: ', a],
        ['Deliver to ', a, ', not the old place.'],
      ]);
    }
    case 'name': {
      const full = `${person.first} ${person.last}`;
      const n = v(pick(rng, [full, person.first, full.toUpperCase(), full.toLowerCase(), person.last]));
      return pick(rng, [
        ['Hi, this is ', n, ' here.'],
        ['The account holder is ', n, '.'],
        ['Regards, ', n],
        ['Can ', n, ' be added as a contact?'],
        ['Note for ', n, ': the credit is applied.'],
      ]);
    }
  }
}

/** Types the set plants, with weights: the four with targets more often. */
const WEIGHTED: LabelType[] = [
  'email',
  'email',
  'phone',
  'phone',
  'card',
  'card',
  'iban',
  'iban',
  'ssn',
  'nino',
  'tfn',
  'address',
  'address',
  'name',
  'name',
];

/** `n` labelled examples from `seed`. */
export function generateMaskSet(seed: number, n: number): MaskExample[] {
  const out: MaskExample[] = [];
  for (let k = 0; k < n; k++) {
    const rng = stream(seed, 'pii-mask-set', k);
    const person = { first: pick(rng, FIRST), last: pick(rng, LAST) };
    const parts: Slot[][] = [];
    const positives = integer(rng, 0, 3);
    for (let i = 0; i < positives; i++) parts.push(clause(rng, pick(rng, WEIGHTED), person));
    const negatives = positives === 0 ? integer(rng, 1, 3) : integer(rng, 0, 2);
    for (let i = 0; i < negatives; i++) parts.push([negative(rng)]);
    // Shuffle the clauses (Fisher-Yates on the seeded stream).
    for (let i = parts.length - 1; i > 0; i--) {
      const j = integer(rng, 0, i);
      [parts[i], parts[j]] = [parts[j]!, parts[i]!];
    }
    let text = '';
    const entities: LabelledSpan[] = [];
    parts.forEach((pieces, i) => {
      if (i > 0) text += pick(rng, [' ', ' ', '\n', '  ']);
      for (const p of pieces) {
        if (typeof p === 'string') text += p;
        else {
          entities.push({ type: p.type, start: text.length, end: text.length + p.value.length });
          text += p.value;
        }
      }
    });
    out.push({ text, names: [`${person.first} ${person.last}`, person.first, person.last], entities });
  }
  return out;
}
