/**
 * Synthetic people with known duplicates, in the spirit of FEBRL's generator (Christen 2005): originals drawn from
 * embedded word lists, and duplicates made by corrupting an original with a few seeded errors each: typos, nicknames,
 * missing values, swapped names, slipped dates, moved addresses, one-digit changes in codes.
 *
 * Ids follow FEBRL: `rec-<n>-org` for person `<n>`'s original and `rec-<n>-dup-<k>` for its duplicates, and `entityOf`
 * maps every id to `<n>`. Everything is fixed by the seed. Person `<n>`'s original depends only on the seed and `<n>`
 * (originals draw from their own stream), so it is the same person whatever the size or duplicate share.
 *
 * Built for volume: values come from tables made once (names, streets, dates, postcodes, street numbers are shared
 * strings), each record's fields object is built in one fixed key order (no `delete`, so no dictionary-mode objects),
 * and the per-record work uses two reused scratch arrays rather than closures.
 */
import { stream, type Rng } from '../../lib/index.ts';
import { NICKNAMES } from './nicknames.ts';
import type { PersonRecord } from './types.ts';

export interface SyntheticPeopleOptions {
  /** How many records in all, originals and duplicates together. */
  records: number;
  seed: number;
  /** The share of records that are duplicates of another record (default 0.3). */
  duplicateShare?: number;
  /** At most this many duplicates of one person (default 3). */
  maxDuplicatesPerPerson?: number;
}

export interface SyntheticPeople {
  /** Shuffled by the seed. */
  records: PersonRecord[];
  /** Record id → the true person, `<n>` of `rec-<n>-…`. */
  entityOf: Map<string, string>;
}

// ---------------------------------------------------------------------------------------------------------------
// Word lists. Most common first: names and streets are drawn with a skew towards the front of their list, so some
// values are much more frequent than others (which is what term-frequency adjustments are for).
// ---------------------------------------------------------------------------------------------------------------

const words = (text: string): string[] => [...new Set(text.trim().split(/\s+/))];
const phrases = (text: string): string[] => [
  ...new Set(
    text
      .split(',')
      .map((s) => s.trim().replace(/\s+/g, ' '))
      .filter(Boolean),
  ),
];

const GIVEN_NAMES = words(`
  james jack william oliver thomas olivia charlotte emily jessica sarah michael david john daniel joshua matthew
  ethan lachlan liam noah lucas ruby chloe mia sophie isabella grace emma ella amelia georgia hannah lily zoe
  benjamin samuel alexander charles christopher andrew robert peter richard mark paul stephen anthony joseph edward george
  henry charlie harry max archie oscar leo cooper riley harrison mitchell connor hamish angus callum fraser mason
  hudson toby jasper flynn declan blake jayden kai lincoln xavier finn hunter jed ashton corey darren shane brett
  craig glenn wade troy dale clinton nathaniel isaac tristan dylan nicholas jacob tyler ryan nathan adam aaron
  luke jordan sean patrick kevin brian timothy steven gregory kenneth ronald donald douglas gerald lawrence harold
  albert frederick arthur walter raymond dennis jeffrey gary larry scott justin brandon zachary kyle jeremy keith
  roger terry christian austin jesse bruce alan ralph gabriel roy wayne eugene logan louis russell vincent philip
  bradley archibald jonathan ian neil graham colin barry trevor warren rodney bryce
  mary elizabeth margaret patricia jennifer linda barbara susan karen nancy lisa betty sandra ashley dorothy
  kimberly michelle carol amanda melissa deborah stephanie rebecca laura sharon cynthia kathleen amy shirley
  angela helen anna brenda pamela nicole samantha katherine christine catherine rachel carolyn janet virginia
  maria heather diane julie joyce victoria kelly christina joan evelyn lauren judith frances martha cheryl megan
  andrea jacqueline ann jean alice kathryn gloria teresa theresa sara janice doris madison julia judy abigail
  marie denise beverly amber marilyn danielle diana natalie sophia rose alexis kayla ava matilda harper evie isla
  sienna jasmine imogen phoebe madeline lucy holly keziah lydia tahnee kasey bronwyn kylie tracey leanne narelle
  tanya belinda fiona joanne kerry sharyn penelope josephine alexandra caroline tessa jade caitlin brooke
  courtney tayla eliza scarlett poppy willow ivy harriet annabelle stella maddison hayley rhiannon alana
  natasha monique renee yvonne gail robyn wendy dianne lorraine glenda noeline beryl valerie maureen jillian
  marion gwen heidi naomi vanessa tegan shannon kirsten mikayla bianca nikita
  alessandro giuseppe marco francesca giulia anh minh thanh linh wei jing mei hui priya raj arjun aditya
  mohammed ahmed fatima aisha omar zara yusuf ali hassan layla nikolai dimitri elena sofia ivan katarina
  kiri tane aroha mere hemi wiremu ngaire
`);

const SURNAMES = words(`
  smith jones williams brown wilson taylor johnson white martin anderson thompson nguyen thomas walker harris lee
  ryan robinson kelly king davis wright evans roberts green hall wood jackson clarke patel khan lewis james
  phillips mitchell turner young scott edwards hughes morris campbell murphy stewart cook moore baker bell
  collins ward carter clark watson parker morgan cooper bennett hill richardson cox mills adams shaw hunt
  chapman allen gray graham simpson wallace reid ross hamilton mason miller murray robertson fraser marshall
  russell ellis hunter webb fisher knight stevens palmer lloyd grant sullivan o'brien o'connor o'neill mcdonald
  mackenzie mccarthy kennedy johnston gibson matthews davies butler harrison jenkins barnes price henderson
  ferguson black wells foster perry porter cole spencer holmes hart lane day rogers burns dixon sharp tucker
  brooks doyle pearce lawson byrne gordon walsh quinn burke dunn lynch nolan fitzgerald daly hayes gill
  mcgrath donaldson pettigrove gloster thorpe daykin benger klander schuetz zilm skeen parr hathaway millar
  vincent bishop shepherd webster lillie-hinrichs hinrichs stubbs greenwood hoffmann schmidt muller weber
  wagner becker schulz koch richter klein wolf schroder neumann braun zimmermann hartmann kruger lange
  werner krause meier lehmann kohler herrmann walter konig mayer huber kaiser fuchs peters lang scholz jung
  moller hahn vogel friedrich keller gunther frank berger winkler roth beck lorenz baumann franke albrecht
  schuster simon ludwig bohm winter kraus martens schumacher vogt stein jager otto sommer gross seidel heinrich
  brandt haas schreiber graf dietrich ziegler kuhn pohl engel horn busch bergmann thomsen voigt sauer arnold
  wolff pfeiffer rossi russo ferrari esposito bianchi romano colombo ricci marino greco bruno gallo conti
  deluca mancini costa giordano rizzo lombardi moretti barbieri fontana santoro mariani rinaldi caruso
  ferrara galli martini leone longo gentile martinelli vitale lombardo serra coppola desantis dangelo
  marchetti parisi villa conte ferraro ferri fabbri bianco marini grasso valentini messina sala
  tran le pham hoang phan vu dang bui do ho ngo duong ly wang li zhang liu chen yang huang zhao wu zhou xu sun
  ma zhu hu guo he lin luo gao zheng liang xie song tang han feng deng cao peng zeng xiao tian dong pan yuan
  cai jiang yu du ye cheng wei su lu ding ren shen yao kim park choi jung kang cho yoon jang lim han shin
  singh kumar sharma gupta shah mehta joshi reddy rao iyer nair pillai menon das bose sen chatterjee
  papadopoulos georgiou nikolaidis christodoulou ioannou katsaros petrakis andreou dimitriou
  kowalski nowak wisniewski wojcik kaminski lewandowski zielinski szymanski dabrowski kozlowski
  novak horvat kovac babic jovanovic petrovic nikolic markovic djordjevic stojanovic
  ahmed hassan hussein ali mohamed ibrahim abdullah rahman hussain aziz
  fernandez garcia rodriguez lopez martinez gonzalez perez sanchez ramirez torres flores rivera gomez diaz
  reyes morales cruz ortiz gutierrez chavez ramos mendoza ruiz alvarez castillo jimenez moreno romero herrera
  medina aguilar vargas castro guzman
  vandenberg dejong janssen devries bakker visser smit meijer mulder bos vos
  anderssen hansen nielsen jensen pedersen larsen sorensen rasmussen jorgensen petersen madsen kristensen
  olsen christensen johansson karlsson nilsson eriksson larsson olsson persson svensson gustafsson
  pettersson jonsson lindberg lindqvist lundgren berglund
  abbott ashworth atkinson bailey barker barrett bates baxter beattie blackwell bolton bond bowen boyd bradley
  brennan briggs bryant buckley burgess burton cameron carr chambers chandler coleman connolly crawford cross
  cunningham dawson dean dickson doherty douglas drummond duncan dwyer elliott farrell field finch fleming
  fletcher ford forbes fox freeman fuller gardner gibbs gilbert goodwin gough hale hammond hancock hanson
  harding hardy harper hawkins hayward heath higgins hobbs hodges holland hooper hopkins horton howard howe
  hudson humphries hutchinson jacobs jarvis jennings kemp kerr lambert lawrence mann marsh maxwell mclean
  mcleod mckenzie mcintyre mckay mcneil mcpherson moss newman newton norris o'sullivan o'donnell o'keefe
  owen page payne pearson potter powell pratt preston randall rees reynolds rhodes rowe sanders saunders
  sharpe sheppard short slater stanley steele stone summers sutton swan talbot thornton todd townsend vaughan
  wade walton warren waters watts west wheeler whitehead wilkinson willis woods wyatt yates
  cartwright whitfield ashby pemberton kingsley fairweather blackburn coppersmith goldsworthy trevaskis
  penrose polglase tregenza chenoweth pascoe trethewey rowlands pritchard prosser llewellyn
`);

const STREET_NAMES = phrases(`
  george, pitt, elizabeth, collins, bourke, flinders, queen, king, william, victoria, albert, church, high, main,
  station, park, railway, bridge, hill, river, beach, ocean, forest, lake, wattle, banksia, acacia, jacaranda,
  waratah, bottlebrush, grevillea, boronia, kurrajong, ironbark, stringybark, blackwood, redgum, bluegum,
  casuarina, melaleuca, lawson, paterson, hume, sturt, oxley, banks, cook, phillip, macquarie, bligh, hunter,
  darling, bass, mitchell, leichhardt, kennedy, eyre, stuart, forrest, burke, wills, light, hindmarsh, gawler,
  grey, fitzroy, bathurst, goulburn, wallaby, pridham, hoseason, gundulu, yuranigh, kent, mountain creek,
  mckillop, hemmings, blamey, manity, wilshire, burnage, macrossan, sinclair, boustead, newman morris,
  macfarland, burdekin, clift, howarth, derrington, boobialla, bedford, mackie, macalister, farrer, rivett,
  monash, chauvel, gellibrand, morshead, birdwood, hovell, kingsford smith, florey, chifley, curtin, menzies,
  deakin, barton, reid, fisher, hughes, scullin, lyons, fadden, forde, holt, gorton, mcmahon, whitlam,
  fraser, hawke, keating, howard, sunset, ridge, valley, orchard, meadow, garden, heritage, pioneer, settlers,
  coolibah, mulga, saltbush, lilly pilly, tallowwood, spotted gum, red cedar, grass tree, kangaroo, emu,
  koala, possum, wombat, echidna, platypus, magpie, kookaburra, rosella, galah, lorikeet, currawong, wren,
  pelican, ibis, heron, jabiru, brolga, osprey, kestrel, swallow, oriole, robin, canary, sandpiper, curlew,
  murray, murrumbidgee, lachlan, namoi, gwydir, macintyre, condamine, balonne, warrego, paroo, barwon,
  yarra, maribyrnong, derwent, tamar, swan, canning, torrens, onkaparinga, brisbane, logan, albert river,
  nepean, hawkesbury, shoalhaven, clyde, moruya, snowy, tambo, mitta mitta, kiewa, ovens, goulburn valley,
  campbell, cunningham, wentworth, blaxland, macarthur, marsden, johnston, throsby, kendall, gilmore,
  mackellar, wright, lindsay, streeton, roberts, mccubbin, boyd, nolan, drysdale, namatjira, dobell, olley,
  jarrah, marri, karri, tuart, wandoo, york, wellington, nelson, trafalgar, waterloo, balaclava, inkerman,
  alma, sebastopol, gallipoli, anzac, kokoda, tobruk, bardia, lone pine, beersheba, pozieres, villers
`);

/** Street types, repeated to weight them (street most of all). */
const STREET_TYPE_DRAW = `
  street street street street road road road avenue avenue place place crescent crescent court court drive drive
  circuit close parade way lane terrace grove boulevard`
  .trim()
  .split(/\s+/);

const ADDRESS2_NAMES = phrases(`
  the willows, pacific terraces, lakefront retirement village, brentwood village, jewells medical centre,
  logan central plaza, sheep station, rosedale, glenview, the oaks, riverside apartments, harbour views,
  parkside, hillcrest, kurrajong lodge, delmar, milton, rowethorpe, thurlgona, brookvale, kersey south,
  mackinnon house, currin gardens, telemon orchards, crown allotment, newman medical centre, rosall,
  kilvinton village, condinup, erinsvale, sunnybank court, wattle grove estate, banksia lodge, seaview,
  mountain view, green gables, the pines, fairway villas, golf links estate, ocean breeze, bayside manor,
  st james court, the grange, avalon, bellevue, eastwood, westfield, northgate, southbank towers,
  cedar park, heritage gardens, pioneer village, settlers rest, the meadows, highfield, lakeside, summerhill,
  woodlands, springvale homestead
`);

/** Suburb, state, postcode: real places with roughly their postcodes. */
const SUBURB_TABLE = `
  sydney nsw 2000; surry hills nsw 2010; bondi nsw 2026; manly nsw 2095; parramatta nsw 2150; chatswood nsw 2067;
  ryde nsw 2112; granville nsw 2142; blacktown nsw 2148; penrith nsw 2750; liverpool nsw 2170; bankstown nsw 2200;
  hurstville nsw 2220; cronulla nsw 2230; sutherland nsw 2232; epping nsw 2121; hornsby nsw 2077;
  castle hill nsw 2154; carlingford nsw 2118; homebush nsw 2140; strathfield nsw 2135; ashfield nsw 2131;
  marrickville nsw 2204; newtown nsw 2042; glebe nsw 2037; woollahra nsw 2025; randwick nsw 2031;
  maroubra nsw 2035; kogarah nsw 2217; campbelltown nsw 2560; camden nsw 2570; wollongong nsw 2500;
  towradgi nsw 2518; kiama nsw 2533; nowra nsw 2541; newcastle nsw 2300; charlestown nsw 2290;
  maitland nsw 2320; cessnock nsw 2325; gosford nsw 2250; charmhaven nsw 2263; the entrance nsw 2261;
  tamworth nsw 2340; armidale nsw 2350; dubbo nsw 2830; orange nsw 2800; bathurst nsw 2795;
  wagga wagga nsw 2650; albury nsw 2640; goulburn nsw 2580; queanbeyan nsw 2620; lismore nsw 2480;
  ballina nsw 2478; byron bay nsw 2481; coffs harbour nsw 2450; port macquarie nsw 2444; yagoona nsw 2199;
  winston hills nsw 2153; pottsville nsw 2489; murphys creek qld 4352;
  melbourne vic 3000; carlton vic 3053; fitzroy vic 3065; richmond vic 3121; st kilda vic 3182;
  brighton vic 3186; frankston vic 3199; dandenong vic 3175; box hill vic 3128; ringwood vic 3134;
  doncaster vic 3108; heidelberg vic 3084; preston vic 3072; coburg vic 3058; brunswick vic 3056;
  footscray vic 3011; sunshine vic 3020; werribee vic 3030; geelong vic 3220; corio vic 3214;
  ballarat vic 3350; bendigo vic 3550; shepparton vic 3630; wodonga vic 3690; mildura vic 3500;
  warrnambool vic 3280; traralgon vic 3844; sale vic 3850; wattle glen vic 3096; surrey hills vic 3127;
  mornington vic 3931; cranbourne vic 3977; pakenham vic 3810; lilydale vic 3140; eltham vic 3095;
  bundoora vic 3083; glen waverley vic 3150; camberwell vic 3124; hawthorn vic 3122; kew vic 3101;
  toorak vic 3142; south yarra vic 3141; prahran vic 3181; elwood vic 3184; williamstown vic 3016;
  essendon vic 3040; craigieburn vic 3064; melton vic 3337; sunbury vic 3429;
  brisbane qld 4000; fortitude valley qld 4006; new farm qld 4005; toowong qld 4066; indooroopilly qld 4068;
  chermside qld 4032; aspley qld 4034; banyo qld 4014; sandgate qld 4017; redcliffe qld 4020;
  caboolture qld 4510; ipswich qld 4305; logan central qld 4114; springwood qld 4127; mount gravatt qld 4122;
  carindale qld 4152; cleveland qld 4163; wynnum qld 4178; southport qld 4215; surfers paradise qld 4217;
  broadbeach qld 4218; burleigh heads qld 4220; coolangatta qld 4225; nerang qld 4211; maroochydore qld 4558;
  noosa heads qld 4567; caloundra qld 4551; sippy downs qld 4556; nambour qld 4560; gympie qld 4570;
  toowoomba qld 4350; bundaberg qld 4670; hervey bay qld 4655; rockhampton qld 4700; gladstone qld 4680;
  mackay qld 4740; townsville qld 4810; cairns qld 4870; atherton qld 4883; mount isa qld 4825;
  adelaide sa 5000; north adelaide sa 5006; glenelg sa 5045; norwood sa 5067; unley sa 5061; prospect sa 5082;
  salisbury sa 5108; elizabeth sa 5112; modbury sa 5092; marion sa 5043; morphett vale sa 5162;
  noarlunga sa 5168; mount barker sa 5251; murray bridge sa 5253; victor harbor sa 5211; port augusta sa 5700;
  whyalla sa 5600; port lincoln sa 5606; mount gambier sa 5290; gawler sa 5118;
  perth wa 6000; fremantle wa 6160; subiaco wa 6008; scarborough wa 6019; joondalup wa 6027; midland wa 6056;
  armadale wa 6112; rockingham wa 6168; mandurah wa 6210; bunbury wa 6230; busselton wa 6280; albany wa 6330;
  geraldton wa 6530; kalgoorlie wa 6430; beechboro wa 6063; morley wa 6062; cannington wa 6107;
  victoria park wa 6100; karratha wa 6714; broome wa 6725;
  hobart tas 7000; sandy bay tas 7005; glenorchy tas 7010; kingston tas 7050; launceston tas 7250;
  devonport tas 7310; burnie tas 7320; ulverstone tas 7315;
  canberra act 2601; belconnen act 2617; woden act 2606; tuggeranong act 2900; gungahlin act 2912;
  kambah act 2902; dickson act 2602; braddon act 2612;
  darwin nt 0800; palmerston nt 0830; casuarina nt 0810; alice springs nt 0870; katherine nt 0850;
  nightcliff nt 0810
`;

/** Roughly each state's share of the population: a person's state is drawn first, then a suburb in it. */
const STATE_WEIGHTS: [string, number][] = [
  ['nsw', 0.32],
  ['vic', 0.26],
  ['qld', 0.2],
  ['wa', 0.1],
  ['sa', 0.07],
  ['tas', 0.02],
  ['act', 0.02],
  ['nt', 0.01],
];

const EMAIL_DOMAINS = words(
  `gmail.com hotmail.com outlook.com yahoo.com.au bigpond.com optusnet.com.au icloud.com live.com.au iinet.net.au tpg.com.au`,
);
const EMAIL_DOMAIN_DRAW = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 6, 7, 8, 9].map((i) => EMAIL_DOMAINS[i]!);

// ---------------------------------------------------------------------------------------------------------------
// Tables made once at load.
// ---------------------------------------------------------------------------------------------------------------

/** Email-safe form of each given name and surname (letters only), by list index. */
const GIVEN_EMAIL = GIVEN_NAMES.map((n) => n.replace(/[^a-z]/g, ''));
const SURNAME_EMAIL = SURNAMES.map((n) => n.replace(/[^a-z]/g, ''));

/** Nickname → formal names and formal → nicknames: the candidates for a given name's nickname corruption. */
const NICK_CANDIDATES = new Map<string, string[]>();
for (const [formal, nicks] of Object.entries(NICKNAMES)) {
  for (const n of nicks) {
    (NICK_CANDIDATES.get(formal) ?? NICK_CANDIDATES.set(formal, []).get(formal)!).push(n);
    (NICK_CANDIDATES.get(n) ?? NICK_CANDIDATES.set(n, []).get(n)!).push(formal);
  }
}

/** Each street name with up to three of the street types: `wallaby place`, `wallaby road`, … */
const STREETS: string[] = (() => {
  const streets = new Set<string>();
  for (let i = 0; i < STREET_NAMES.length; i++) {
    for (let j = 0; j < 3; j++) streets.add(`${STREET_NAMES[i]} ${STREET_TYPE_DRAW[(i * 7 + j * 11) % STREET_TYPE_DRAW.length]}`);
  }
  return [...streets];
})();

const SUBURBS: { name: string; state: string; postcode: number }[] = SUBURB_TABLE.split(';').map((row) => {
  const parts = row.trim().split(/\s+/);
  const postcode = Number(parts.pop());
  const state = parts.pop()!;
  return { name: parts.join(' '), state, postcode };
});
const STATES = STATE_WEIGHTS.map(([s]) => s);
const STATE_CDF = (() => {
  let acc = 0;
  const total = STATE_WEIGHTS.reduce((a, [, w]) => a + w, 0);
  return STATE_WEIGHTS.map(([, w]) => (acc += w / total));
})();
/** Suburb indices by state index. */
const SUBURBS_BY_STATE: number[][] = STATES.map((s) => SUBURBS.flatMap((x, i) => (x.state === s ? [i] : [])));

/** Every 4-digit string, made on first use. */
const POSTCODE_TEXT: string[] = new Array(10000);
const postcodeText = (n: number): string => (POSTCODE_TEXT[n] ??= String(n).padStart(4, '0'));
/** Small numbers as text (street numbers, units), made on first use. */
const NUMBER_TEXT: string[] = new Array(1000);
const numberText = (n: number): string => (n < 1000 ? (NUMBER_TEXT[n] ??= String(n)) : String(n));

/** Every date of birth from 1930-01-01 to 2005-12-31 as YYYYMMDD. */
const FIRST_YEAR = 1930;
const LAST_YEAR = 2005;
const daysIn = (y: number, m: number): number =>
  m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
const DATES: string[] = [];
for (let y = FIRST_YEAR; y <= LAST_YEAR; y++) {
  for (let m = 1; m <= 12; m++) {
    const ym = `${y}${m < 10 ? '0' : ''}${m}`;
    for (let d = 1, n = daysIn(y, m); d <= n; d++) DATES.push(`${ym}${d < 10 ? '0' : ''}${d}`);
  }
}

/** Keyboard neighbours of each letter (QWERTY), for typos that look like slips of the finger. */
const NEIGHBOURS: string[] =
  'qwsz vghn xdfv serfcx wsdr drtgvc ftyhbv gyujnb ujko huikmn jiolm kop njk bhjm iklp ol wa edft awedxz rfgy yhji cfgb qase zsdc tghu asx'.split(
    ' ',
  );
const isLetter = (c: number): boolean => c >= 97 && c <= 122;

/**
 * V8 keeps a concatenation as a rope of its pieces (32 bytes a node); reading a character flattens it into one string
 * and the garbage collector then drops the rope. For the strings every record keeps (ids, emails, typos) that halves
 * their memory. The read goes into a module variable so the compiler cannot drop it.
 */
let flattened = 0;
const flat = (s: string): string => {
  flattened = (flattened + s.charCodeAt(0)) | 0;
  return s;
};

// ---------------------------------------------------------------------------------------------------------------
// Field slots: records are assembled in scratch arrays indexed by these, then built into objects in one key order.
// ---------------------------------------------------------------------------------------------------------------

const GIVEN = 0,
  SURNAME = 1,
  DOB = 2,
  STREET_NO = 3,
  ADDRESS1 = 4,
  ADDRESS2 = 5,
  SUBURB = 6,
  POSTCODE = 7,
  STATE = 8,
  EMAIL = 9,
  PHONE = 10,
  NATIONAL_ID = 11;
const SLOTS = 12;
type Slots = (string | undefined)[];

function build(v: Slots): PersonRecord['fields'] {
  const f: PersonRecord['fields'] = {};
  if (v[GIVEN] !== undefined) f.givenName = v[GIVEN];
  if (v[SURNAME] !== undefined) f.surname = v[SURNAME];
  if (v[DOB] !== undefined) f.dateOfBirth = v[DOB];
  if (v[STREET_NO] !== undefined) f.streetNumber = v[STREET_NO];
  if (v[ADDRESS1] !== undefined) f.address1 = v[ADDRESS1];
  if (v[ADDRESS2] !== undefined) f.address2 = v[ADDRESS2];
  if (v[SUBURB] !== undefined) f.suburb = v[SUBURB];
  if (v[POSTCODE] !== undefined) f.postcode = v[POSTCODE];
  if (v[STATE] !== undefined) f.state = v[STATE];
  if (v[EMAIL] !== undefined) f.email = v[EMAIL];
  if (v[PHONE] !== undefined) f.phone = v[PHONE];
  if (v[NATIONAL_ID] !== undefined) f.nationalId = v[NATIONAL_ID];
  return f;
}

// ---------------------------------------------------------------------------------------------------------------
// Originals.
// ---------------------------------------------------------------------------------------------------------------

/** An index into a list of `n`, skewed towards the front: the first of 300 is drawn about 2% of the time. */
const skewed = (rng: Rng, n: number): number => {
  const u = rng.next();
  return Math.floor(n * u * Math.sqrt(u));
};
const below = (rng: Rng, n: number): number => Math.floor(rng.next() * n);

function drawSuburb(rng: Rng, stateIndex = -1): number {
  let s = stateIndex;
  if (s < 0) {
    const u = rng.next();
    s = 0;
    while (s < STATE_CDF.length - 1 && u >= STATE_CDF[s]!) s++;
  }
  const list = SUBURBS_BY_STATE[s]!;
  return list[below(rng, list.length)]!;
}

/** Mostly small street numbers, now and then a long road's. */
const drawStreetNumber = (rng: Rng): string => {
  const u = rng.next();
  return numberText(rng.next() < 0.85 ? 1 + Math.floor(u * 60) : 61 + Math.floor(u * 439));
};

/** A postcode loosely tied to the suburb: its own most of the time, a neighbouring one of the same district otherwise. */
const drawPostcode = (rng: Rng, suburb: number): string => {
  const base = SUBURBS[suburb]!.postcode;
  return postcodeText(rng.next() < 0.75 ? base : Math.min(9999, base + 1 + below(rng, 9)));
};

const drawAddress2 = (rng: Rng): string => {
  const u = rng.next();
  if (u < 0.15) return `unit ${numberText(1 + below(rng, 40))}`;
  if (u < 0.2) return `villa ${numberText(1 + below(rng, 30))}`;
  return ADDRESS2_NAMES[below(rng, ADDRESS2_NAMES.length)]!;
};

/** An address belongs to one person: the person's number (base 36) keeps it theirs. */
function drawEmail(rng: Rng, given: number, surname: number, dob: string, person: number): string {
  const g = GIVEN_EMAIL[given]!,
    s = SURNAME_EMAIL[surname]!;
  const u = rng.next();
  const local =
    u < 0.35 ? `${g}.${s}` : u < 0.5 ? g + s : u < 0.65 ? g[0] + s : u < 0.75 ? `${g}_${s}` : u < 0.85 ? `${s}.${g}` : g + dob.slice(2, 4);
  return flat(`${local}${person.toString(36)}@${EMAIL_DOMAIN_DRAW[below(rng, EMAIL_DOMAIN_DRAW.length)]}`);
}

/**
 * Fills `v` with person number `person`. Everyone has a name, date of birth, street, suburb, postcode, state and national
 * id. Email, phone and national id are each one person's own, as in life: a multiplier coprime to the range spreads
 * the person numbers over it without repeats (phones below 10^8 people, national ids below 9 million).
 */
function drawOriginal(rng: Rng, v: Slots, person: number): void {
  const given = skewed(rng, GIVEN_NAMES.length);
  const surname = skewed(rng, SURNAMES.length);
  const dob = DATES[below(rng, DATES.length)]!;
  const suburb = drawSuburb(rng);
  v[GIVEN] = GIVEN_NAMES[given];
  v[SURNAME] = SURNAMES[surname];
  v[DOB] = dob;
  v[STREET_NO] = rng.next() < 0.98 ? drawStreetNumber(rng) : undefined;
  v[ADDRESS1] = STREETS[skewed(rng, STREETS.length)];
  v[ADDRESS2] = rng.next() < 0.45 ? drawAddress2(rng) : undefined;
  v[SUBURB] = SUBURBS[suburb]!.name;
  v[POSTCODE] = drawPostcode(rng, suburb);
  v[STATE] = SUBURBS[suburb]!.state;
  v[EMAIL] = rng.next() < 0.85 ? drawEmail(rng, given, surname, dob, person) : undefined;
  v[PHONE] = rng.next() < 0.9 ? `04${String((person * 7919 + 1234567) % 1e8).padStart(8, '0')}` : undefined;
  v[NATIONAL_ID] = String(1000000 + ((person * 4999 + 271828) % 9000000));
}

// ---------------------------------------------------------------------------------------------------------------
// Corruption.
// ---------------------------------------------------------------------------------------------------------------

/** A duplicate keeps at least this many of its original's non-empty fields unchanged. */
const MIN_KEPT = 5;

/**
 * The errors a duplicate can carry, each draw picking one by these weights. An error that cannot apply (the field
 * is empty, there is no nickname, it would leave fewer than MIN_KEPT fields intact, or it changes nothing) is
 * redrawn, up to a few times.
 */
const ERRORS = [
  ['typo', 0.3], // a name or street: insert, delete, substitute (keyboard neighbour), transpose, or a space slip
  ['missing', 0.14], // any non-empty field blanked
  ['date', 0.1], // day and month swapped, one digit changed, or two neighbouring digits transposed
  ['nickname', 0.08], // william → bill, or back
  ['postcode', 0.08], // one digit changed
  ['nationalId', 0.08], // one digit changed
  ['streetNumber', 0.07], // a near number, another number, or one digit changed
  ['moved', 0.06], // new street number, street, address2, suburb and postcode in the same state
  ['swap', 0.05], // given name and surname swapped
  ['phone', 0.04], // one digit changed (after the 04)
] as const;
type ErrorKind = (typeof ERRORS)[number][0];
const ERROR_KINDS: ErrorKind[] = ERRORS.map(([k]) => k);
const ERROR_CDF = (() => {
  let acc = 0;
  return ERRORS.map(([, w]) => (acc += w));
})();
/** How many errors a duplicate carries: 1 half the time, 2 in 30%, 3 in 20%. */
const ERROR_COUNT_CDF = [0.5, 0.8, 1];
/** Which field a typo hits, and how likely each is. */
const TYPO_SLOTS = [GIVEN, SURNAME, ADDRESS1, SUBURB, ADDRESS2];
const TYPO_CDF = [0.25, 0.55, 0.8, 0.92, 1];

const cdfPick = (rng: Rng, cdf: readonly number[]): number => {
  const u = rng.next() * cdf[cdf.length - 1]!;
  let i = 0;
  while (i < cdf.length - 1 && u >= cdf[i]!) i++;
  return i;
};

/** Is slot `i` still as in the original (and not empty there)? */
const intact = (v: Slots, org: Slots, i: number): number => (org[i] !== undefined && v[i] === org[i] ? 1 : 0);
function keptCount(v: Slots, org: Slots): number {
  let n = 0;
  for (let i = 0; i < SLOTS; i++) n += intact(v, org, i);
  return n;
}

/** Can an error that may change `slot` (or `slots`) still leave MIN_KEPT of the original's fields intact? */
const affordable = (v: Slots, org: Slots, kept: number, slot: number): boolean => kept - intact(v, org, slot) >= MIN_KEPT;
function affordableAll(v: Slots, org: Slots, kept: number, slots: readonly number[]): boolean {
  let cost = 0;
  for (const i of slots) cost += intact(v, org, i);
  return kept - cost >= MIN_KEPT;
}
const MOVED_SLOTS = [STREET_NO, ADDRESS1, ADDRESS2, SUBURB, POSTCODE];
const NAME_SLOTS = [GIVEN, SURNAME];

/** A typing slip in a word or phrase; the result stays normalized (lowercase, single inner spaces). */
function typo(rng: Rng, s: string): string {
  const n = s.length;
  const u = rng.next();
  const i = below(rng, n);
  const c = s.charCodeAt(i);
  let out: string;
  if (u < 0.2) {
    // insert a neighbour of the letter here (or any letter)
    const keys = isLetter(c) ? NEIGHBOURS[c - 97]! : 'etaoinshr';
    out = s.slice(0, i + 1) + keys[below(rng, keys.length)] + s.slice(i + 1);
  } else if (u < 0.4) {
    out = s.slice(0, i) + s.slice(i + 1);
  } else if (u < 0.7) {
    if (!isLetter(c)) return s;
    const keys = NEIGHBOURS[c - 97]!;
    out = s.slice(0, i) + keys[below(rng, keys.length)] + s.slice(i + 1);
  } else if (u < 0.85) {
    if (i + 1 >= n) return s;
    out = s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 1 + 1);
  } else {
    // a space slip: two words run together, or a word split (`bedford s treet`)
    const space = s.indexOf(' ');
    if (space > 0 && rng.next() < 0.6) out = s.slice(0, space) + s.slice(space + 1);
    else {
      if (i === 0 || i >= n - 1 || s[i] === ' ' || s[i - 1] === ' ') return s;
      out = `${s.slice(0, i)} ${s.slice(i)}`;
    }
  }
  // keep the value normalized: no empty, leading, trailing or doubled spaces
  if (out.includes('  ')) out = out.replace(/ {2,}/g, ' ');
  if (out.startsWith(' ') || out.endsWith(' ')) out = out.trim();
  return out ? flat(out) : s;
}

/** One digit of `s` at a position in [from, s.length) replaced by another digit. */
function changeDigit(rng: Rng, s: string, from = 0): string {
  const i = from + below(rng, s.length - from);
  const d = s.charCodeAt(i) - 48;
  const to = (d + 1 + below(rng, 9)) % 10;
  return s.slice(0, i) + String.fromCharCode(48 + to) + s.slice(i + 1);
}

/** Applies one error of `kind` to `v`; false when it cannot apply or changes nothing. */
function applyError(rng: Rng, kind: ErrorKind, v: Slots, org: Slots, kept: number): boolean {
  switch (kind) {
    case 'typo': {
      const slot = TYPO_SLOTS[cdfPick(rng, TYPO_CDF)]!;
      const s = v[slot];
      if (s === undefined || s.length < 2 || !affordable(v, org, kept, slot)) return false;
      const t = typo(rng, s);
      if (t === s) return false;
      v[slot] = t;
      return true;
    }
    case 'missing': {
      let present = 0;
      for (let i = 0; i < SLOTS; i++) if (v[i] !== undefined) present++;
      if (present <= MIN_KEPT) return false;
      let k = below(rng, present);
      let slot = 0;
      for (; slot < SLOTS; slot++) if (v[slot] !== undefined && k-- === 0) break;
      if (!affordable(v, org, kept, slot)) return false;
      v[slot] = undefined;
      return true;
    }
    case 'date': {
      const s = v[DOB];
      if (s === undefined || !affordable(v, org, kept, DOB)) return false;
      const u = rng.next();
      let t: string;
      const mm = s.slice(4, 6),
        dd = s.slice(6, 8);
      if (u < 0.35 && dd !== mm && Number(dd) >= 1 && Number(dd) <= 12) t = s.slice(0, 4) + dd + mm;
      else if (u < 0.85) t = changeDigit(rng, s, 2);
      else {
        const i = 2 + below(rng, 5);
        t = s.slice(0, i) + s[i + 1] + s[i] + s.slice(i + 2);
      }
      if (t === s) return false;
      v[DOB] = t;
      return true;
    }
    case 'nickname': {
      const g = v[GIVEN];
      const options = g === undefined ? undefined : NICK_CANDIDATES.get(g);
      if (!options || !affordable(v, org, kept, GIVEN)) return false;
      v[GIVEN] = options[below(rng, options.length)];
      return true;
    }
    case 'postcode':
    case 'nationalId':
    case 'phone': {
      const slot = kind === 'postcode' ? POSTCODE : kind === 'nationalId' ? NATIONAL_ID : PHONE;
      const s = v[slot];
      if (s === undefined || !affordable(v, org, kept, slot)) return false;
      v[slot] = changeDigit(rng, s, kind === 'phone' ? 2 : 0);
      return true;
    }
    case 'streetNumber': {
      const s = v[STREET_NO];
      if (s === undefined || !affordable(v, org, kept, STREET_NO)) return false;
      const u = rng.next();
      let t: string;
      if (u < 0.4) {
        const n = Number(s) + (rng.next() < 0.5 ? -1 : 1) * (1 + below(rng, 3));
        t = numberText(n >= 1 ? n : Number(s) + 2);
      } else if (u < 0.8) t = drawStreetNumber(rng);
      else {
        // one digit changed; a leading zero falls away, as it would when typed
        const n = Number(changeDigit(rng, s));
        t = numberText(n >= 1 ? n : 1);
      }
      if (t === s) return false;
      v[STREET_NO] = t;
      return true;
    }
    case 'moved': {
      if (!affordableAll(v, org, kept, MOVED_SLOTS)) return false;
      const stateIndex = STATES.indexOf(org[STATE]!);
      let suburb = drawSuburb(rng, stateIndex);
      if (SUBURBS[suburb]!.name === org[SUBURB]) suburb = drawSuburb(rng, stateIndex);
      let street = STREETS[skewed(rng, STREETS.length)]!;
      if (street === org[ADDRESS1]) street = STREETS[below(rng, STREETS.length)]!;
      v[STREET_NO] = drawStreetNumber(rng);
      v[ADDRESS1] = street;
      v[ADDRESS2] = rng.next() < 0.45 ? drawAddress2(rng) : undefined;
      v[SUBURB] = SUBURBS[suburb]!.name;
      v[POSTCODE] = drawPostcode(rng, suburb);
      return true;
    }
    case 'swap': {
      const g = v[GIVEN],
        s = v[SURNAME];
      if (g === undefined || s === undefined || g === s || !affordableAll(v, org, kept, NAME_SLOTS)) return false;
      v[GIVEN] = s;
      v[SURNAME] = g;
      return true;
    }
  }
}

/** Turns `v` (a copy of `org`) into a duplicate: one to three errors, at least one change, most fields kept. */
function corrupt(rng: Rng, v: Slots, org: Slots): void {
  const errors = 1 + cdfPick(rng, ERROR_COUNT_CDF);
  for (let e = 0; e < errors; e++) {
    for (let attempt = 0; attempt < 6; attempt++) {
      if (applyError(rng, ERROR_KINDS[cdfPick(rng, ERROR_CDF)]!, v, org, keptCount(v, org))) break;
    }
  }
  // Every error may have been refused or undone by a later one: a duplicate must differ, so drop a letter.
  let same = true;
  for (let i = 0; i < SLOTS && same; i++) same = v[i] === org[i];
  if (same) {
    const s = org[SURNAME]!;
    const i = below(rng, s.length);
    v[SURNAME] = s.length > 1 ? s.slice(0, i) + s.slice(i + 1) : `${s}${s}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The generator.
// ---------------------------------------------------------------------------------------------------------------

/**
 * `records` person records, about `duplicateShare` of them duplicates (exactly round(records × share)), each person
 * having at most `maxDuplicatesPerPerson`. How many duplicates a person has follows Zipf's law over 1..max (with 3:
 * 55% one, 27% two, 18% three), as in FEBRL's own data sets.
 */
export function generatePeople(opts: SyntheticPeopleOptions): SyntheticPeople {
  const total = opts.records;
  const share = opts.duplicateShare ?? 0.3;
  const maxDup = opts.maxDuplicatesPerPerson ?? 3;
  if (!Number.isInteger(total) || total < 0) throw new RangeError(`records must be a whole number ≥ 0, got ${total}`);
  if (!(share >= 0 && share < 1)) throw new RangeError(`duplicateShare must be in [0, 1), got ${share}`);
  if (!Number.isInteger(maxDup) || maxDup < 0) throw new RangeError(`maxDuplicatesPerPerson must be a whole number ≥ 0, got ${maxDup}`);
  const dupTotal = Math.round(total * share);
  const orgTotal = total - dupTotal;
  if (dupTotal > orgTotal * maxDup) {
    throw new RangeError(
      `${dupTotal} duplicates cannot come from ${orgTotal} people with at most ${maxDup} each: lower duplicateShare or raise maxDuplicatesPerPerson`,
    );
  }

  // How many duplicates each person has: people taken in a seeded order, each drawing a Zipf count until the
  // duplicates are all placed (topped up one by one in the same order if the draws fell short).
  const allocate = stream(opts.seed, 'identity-synthetic', 'allocate');
  const counts = new Int32Array(orgTotal);
  if (dupTotal > 0) {
    const order = new Int32Array(orgTotal);
    for (let i = 0; i < orgTotal; i++) order[i] = i;
    for (let i = orgTotal - 1; i > 0; i--) {
      const j = below(allocate, i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    const zipf: number[] = [];
    for (let c = 1, acc = 0; c <= maxDup; c++) zipf.push((acc += 1 / c));
    let remaining = dupTotal;
    for (let i = 0; i < orgTotal && remaining > 0; i++) {
      const c = Math.min(1 + cdfPick(allocate, zipf), remaining);
      counts[order[i]!] = c;
      remaining -= c;
    }
    for (let i = 0; remaining > 0; i = (i + 1) % orgTotal) {
      const p = order[i]!;
      if (counts[p]! < maxDup) {
        counts[p]!++;
        remaining--;
      }
    }
  }

  const originals = stream(opts.seed, 'identity-synthetic', 'originals');
  const duplicates = stream(opts.seed, 'identity-synthetic', 'duplicates');
  const records: PersonRecord[] = new Array(total);
  const org: Slots = new Array(SLOTS);
  const dup: Slots = new Array(SLOTS);
  // Each record's person, kept aside and put into the map in one pass afterwards (quicker than setting as we go).
  const entities: string[] = new Array(total);
  let r = 0;
  for (let n = 0; n < orgTotal; n++) {
    drawOriginal(originals, org, n);
    const entity = String(n);
    const prefix = `rec-${entity}-`;
    const orgId = flat(`${prefix}org`);
    entities[r] = entity;
    records[r++] = { id: orgId, source: 0, fields: build(org) };
    for (let k = 0, c = counts[n]!; k < c; k++) {
      for (let i = 0; i < SLOTS; i++) dup[i] = org[i];
      corrupt(duplicates, dup, org);
      const id = flat(`${prefix}dup-${k}`);
      entities[r] = entity;
      records[r++] = { id, source: 0, fields: build(dup) };
    }
  }

  const entityOf = new Map<string, string>();
  for (let i = 0; i < total; i++) entityOf.set(records[i]!.id, entities[i]!);

  const shuffle = stream(opts.seed, 'identity-synthetic', 'order');
  for (let i = total - 1; i > 0; i--) {
    const j = below(shuffle, i + 1);
    const t = records[i]!;
    records[i] = records[j]!;
    records[j] = t;
  }
  return { records, entityOf };
}
