import { pick, type Rng } from '../lib/index.ts';

/**
 * Support-ticket, dispute and NPS text from templates. The tone is drawn from the customer's satisfaction
 * (world.ts), so the sentiment the sense module reads off the text follows the latent state, with noise.
 */

export type Tone = 'negative' | 'neutral' | 'positive';
export type Topic = 'internet' | 'outage' | 'billing' | 'tv' | 'phone' | 'account' | 'cancel';

const OPENERS: Record<Tone, readonly string[]> = {
  negative: [
    'I am really frustrated.',
    'This is unacceptable.',
    'Honestly this is the worst service I have had.',
    'I have waited long enough and I am angry.',
    'Third time writing about this, still nothing.',
    'I am very disappointed.',
  ],
  neutral: ['Hello,', 'Hi team,', 'Good morning,', 'Hi,', 'Hello support,'],
  positive: ['Hi, thanks for the quick help last time.', 'Hello, great service so far.', 'Hi, I appreciate the help.'],
};

const BODIES: Record<Topic, Record<Tone, readonly string[]>> = {
  internet: {
    negative: [
      'My internet is slow again every evening and the wifi keeps dropping.',
      'The connection is unreliable and keeps failing during work calls.',
    ],
    neutral: [
      'My internet speed seems lower than my plan. Could you check the line?',
      'Could someone check my router settings? The speed varies.',
    ],
    positive: [
      'The speed has been good, I just want to ask about upgrading my router.',
      'Internet works well, could you tell me about faster plans?',
    ],
  },
  outage: {
    negative: [
      'There is an outage at my address and the service has been down since yesterday.',
      'Internet is down again, this is the second outage this week.',
    ],
    neutral: ['My service seems to be down. Is there an outage in my area?', 'No connection since this morning, is there maintenance?'],
    positive: [
      'Service went down this morning, thanks for any update on when it is fixed.',
      'Small outage today, appreciate a quick look.',
    ],
  },
  billing: {
    negative: [
      'I was overcharged on my last bill and nobody explains why it is so expensive.',
      'My bill is wrong again, I was charged for things I never ordered.',
    ],
    neutral: ['Could you explain the charges on my last invoice?', 'I have a question about the amount on my latest bill.'],
    positive: [
      'Thanks for the clear bill, one small question about a line item.',
      'Billing is easy, I just want to change my billing date.',
    ],
  },
  tv: {
    negative: ['Streaming keeps freezing and half my channels are missing.', 'The TV service is broken, the app crashes every night.'],
    neutral: ['Some channels are not showing up. Could you refresh my package?', 'How do I add a streaming package to my plan?'],
    positive: ['Love the new channels, how do I add the sports package?', 'TV works great, can I add a second box?'],
  },
  phone: {
    negative: ['Calls keep getting dropped and the line is useless at home.', 'My phone line has terrible quality, people cannot hear me.'],
    neutral: ['I would like to add a second line. What are the options?', 'Could you check my voicemail settings?'],
    positive: ['Phone service is good, I want to add another line.', 'Thanks, the line works fine now, just one question about roaming.'],
  },
  account: {
    negative: [
      'I tried to update my address three times and it still shows the old one, ridiculous.',
      'Your website logged me out again and I lost my changes.',
    ],
    neutral: ['I am moving next month. How do I transfer my service?', 'Please update the email address on my account.'],
    positive: ['Moving went smooth, thanks. Please confirm my new address.', 'Easy to manage my account, just need to add a contact.'],
  },
  cancel: {
    negative: [
      'I want to cancel. I am switching to another provider unless this gets fixed.',
      'How do I cancel? I am leaving, this is not worth the money.',
    ],
    neutral: ['What would it cost to cancel my contract early?', 'Can you tell me the notice period if I want to end my plan?'],
    positive: [
      'I am happy overall but considering a cheaper plan, what can you offer?',
      'Good service, but I need to cut costs. Any options before I decide?',
    ],
  },
};

const CLOSERS: Record<Tone, readonly string[]> = {
  negative: ['Fix this now or I am leaving.', 'I expect a refund.', 'Not happy at all.', 'Please do not ignore this again.', ''],
  neutral: ['Thanks.', 'Regards.', 'Thank you.', ''],
  positive: ['Thanks a lot!', 'Appreciate it.', 'Great work, thanks.', ''],
};

const SUBJECTS: Record<Topic, readonly string[]> = {
  internet: ['Slow internet', 'Wifi keeps dropping', 'Speed question'],
  outage: ['Service down', 'Outage at my address'],
  billing: ['Question about my bill', 'Wrong charge', 'Invoice'],
  tv: ['TV channels', 'Streaming problem'],
  phone: ['Phone line', 'Dropped calls'],
  account: ['Account details', 'Moving house'],
  cancel: ['Contract end', 'Cancellation'],
};

export function ticketText(rng: Rng, topic: Topic, tone: Tone): { subject: string; text: string } {
  const parts = [pick(rng, OPENERS[tone]), pick(rng, BODIES[topic][tone]), pick(rng, CLOSERS[tone])].filter(Boolean);
  return { subject: pick(rng, SUBJECTS[topic]), text: parts.join(' ') };
}

const DISPUTE_REASONS = [
  'Charged twice for the same month',
  'Charged for a service I cancelled',
  'Late fee applied although I paid on time',
  'Promotional discount missing from this invoice',
  'Equipment fee I never agreed to',
];

export const disputeReason = (rng: Rng) => pick(rng, DISPUTE_REASONS);

const NPS_COMMENTS: Record<Tone, readonly string[]> = {
  negative: ['Too expensive for what you get.', 'Support is slow and unhelpful.', 'Connection is unreliable.', 'Billing is confusing.'],
  neutral: ['It is fine.', 'Does the job.', 'Average service.', 'Okay for the price.'],
  positive: ['Great service, fast internet.', 'Helpful support, thanks.', 'Very happy with the plan.', 'Works perfectly.'],
};

export const npsComment = (rng: Rng, tone: Tone) => pick(rng, NPS_COMMENTS[tone]);

const FIRST = [
  'Ana',
  'Ben',
  'Chen',
  'Dara',
  'Eli',
  'Fatima',
  'Gus',
  'Hana',
  'Ivan',
  'Jo',
  'Kofi',
  'Lena',
  'Mateo',
  'Nora',
  'Omar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sam',
  'Tariq',
];
const LAST = [
  'Silva',
  'Okafor',
  'Nguyen',
  'Smith',
  'Kowalski',
  'Haddad',
  'Jensen',
  'Garcia',
  'Ito',
  'Murphy',
  'Rossi',
  'Patel',
  'Novak',
  'Brown',
];
const COMPANIES = ['Northwind Dental', 'Blue Harbor Cafe', 'Acme Logistics', 'Maple Street Clinic', 'Orbit Studio', 'Pine & Co'];
export const LEAD_INTERESTS = [
  'Fiber internet',
  'TV and streaming bundle',
  'Business line',
  'Phone plan',
  'Internet and phone bundle',
] as const;

export function leadPerson(rng: Rng): { firstName: string; lastName: string; company: string | null } {
  const firstName = pick(rng, FIRST);
  const lastName = pick(rng, LAST);
  const company = rng.next() < 0.25 ? pick(rng, COMPANIES) : null;
  return { firstName, lastName, company };
}

export const WEB_PAGES = [
  '/plans',
  '/support',
  '/support/internet',
  '/account/billing',
  '/account/usage',
  '/offers',
  '/tv/channels',
] as const;
export const CANCEL_PAGE = '/account/cancel';
export const LEAD_PAGES = ['/plans', '/offers', '/coverage', '/plans/fiber', '/contact'] as const;
