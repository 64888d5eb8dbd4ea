/**
 * The first churn model: an L2-regularised logistic regression over a customer's contract, services,
 * billing and demographics, fitted by Newton's method (deterministic, no randomness). It is transparent:
 * every prediction can be explained as the sum of per-feature contributions (weight × value).
 */

/** The stored shapes the model reads: an account's attributes and its subscription, as the API returns them. */
export interface ChurnModelInput {
  attributes: Record<string, unknown>;
  subscription: {
    contract?: string | null;
    paymentMethod?: string | null;
    paperlessBilling?: boolean | null;
    tenureMonths?: number | null;
    monthlyAmount?: number | null;
    services?: Record<string, unknown> | null;
  };
}

const flag = (v: unknown) => (v === true ? 1 : 0);

/** Feature name → how it is read. Continuous values are scaled to roughly [0, 1] so one L2 penalty fits all. */
const FEATURES: Record<string, (x: ChurnModelInput) => number> = {
  tenureYears: (x) => (x.subscription.tenureMonths ?? 0) / 12,
  monthlyHundreds: (x) => (x.subscription.monthlyAmount ?? 0) / 100,
  contractOneYear: (x) => (x.subscription.contract === 'one-year' ? 1 : 0),
  contractTwoYear: (x) => (x.subscription.contract === 'two-year' ? 1 : 0),
  fiberInternet: (x) =>
    String(x.subscription.services?.internetService ?? '')
      .toLowerCase()
      .startsWith('fiber')
      ? 1
      : 0,
  noInternet: (x) => (String(x.subscription.services?.internetService ?? 'no').toLowerCase() === 'no' ? 1 : 0),
  electronicCheck: (x) => (String(x.subscription.paymentMethod ?? '').toLowerCase() === 'electronic check' ? 1 : 0),
  paperlessBilling: (x) => flag(x.subscription.paperlessBilling),
  seniorCitizen: (x) => flag(x.attributes.seniorCitizen),
  partner: (x) => flag(x.attributes.partner),
  dependents: (x) => flag(x.attributes.dependents),
  techSupport: (x) => flag(x.subscription.services?.techSupport),
  onlineSecurity: (x) => flag(x.subscription.services?.onlineSecurity),
  onlineBackup: (x) => flag(x.subscription.services?.onlineBackup),
  deviceProtection: (x) => flag(x.subscription.services?.deviceProtection),
  streamingTv: (x) => flag(x.subscription.services?.streamingTv),
  streamingMovies: (x) => flag(x.subscription.services?.streamingMovies),
  phoneService: (x) => flag(x.subscription.services?.phoneService),
  multipleLines: (x) => flag(x.subscription.services?.multipleLines),
};

export const CHURN_FEATURES = Object.keys(FEATURES);

export function churnFeatureVector(x: ChurnModelInput): number[] {
  return CHURN_FEATURES.map((name) => FEATURES[name]!(x));
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** Solves A·x = b for a symmetric positive definite A (Cholesky). */
function solveSpd(a: number[][], b: number[]): number[] {
  const n = b.length;
  const l = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i]![j]!;
      for (let k = 0; k < j; k++) sum -= l[i]![k]! * l[j]![k]!;
      if (i === j) {
        if (sum <= 0) throw new Error('Hessian is not positive definite; increase the L2 penalty');
        l[i]![i] = Math.sqrt(sum);
      } else l[i]![j] = sum / l[j]![j]!;
    }
  }
  const y = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    let sum = b[i]!;
    for (let k = 0; k < i; k++) sum -= l[i]![k]! * y[k]!;
    y[i] = sum / l[i]![i]!;
  }
  const x = new Array<number>(n).fill(0);
  for (let i = n - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < n; k++) sum -= l[k]![i]! * x[k]!;
    x[i] = sum / l[i]![i]!;
  }
  return x;
}

export interface LogisticFit {
  intercept: number;
  weights: number[];
  iterations: number;
}

/** Newton–Raphson on the penalised log-likelihood; the intercept is not penalised. */
export function fitLogistic(
  rows: number[][],
  labels: number[],
  opts: { l2?: number; maxIterations?: number; tolerance?: number } = {},
): LogisticFit {
  const l2 = opts.l2 ?? 1;
  const d = (rows[0]?.length ?? 0) + 1;
  let beta = new Array<number>(d).fill(0);
  for (let iteration = 1; iteration <= (opts.maxIterations ?? 50); iteration++) {
    const grad = beta.map((b, j) => (j === 0 ? 0 : -l2 * b));
    const hess = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j && i > 0 ? -l2 : 0)));
    rows.forEach((row, n) => {
      const x = [1, ...row];
      const p = sigmoid(x.reduce((s, v, j) => s + v * beta[j]!, 0));
      const w = p * (1 - p);
      for (let i = 0; i < d; i++) {
        grad[i]! += (labels[n]! - p) * x[i]!;
        for (let j = 0; j <= i; j++) hess[i]![j]! -= w * x[i]! * x[j]!;
      }
    });
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) hess[j]![i] = hess[i]![j]!;
    const step = solveSpd(
      hess.map((r) => r.map((v) => -v)),
      grad,
    );
    beta = beta.map((b, j) => b + step[j]!);
    if (Math.max(...step.map(Math.abs)) < (opts.tolerance ?? 1e-8))
      return { intercept: beta[0]!, weights: beta.slice(1), iterations: iteration };
  }
  throw new Error('logistic regression did not converge');
}

/** Area under the ROC curve by the rank-sum formula (ties share their average rank). */
export function rocAuc(scores: number[], labels: number[]): number {
  const order = scores.map((s, i) => [s, labels[i]!] as const).sort((a, b) => a[0] - b[0]);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j < order.length && order[j]![0] === order[i]![0]) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (order[k]![1] === 1) ((rankSum += averageRank), positives++);
    i = j;
  }
  const negatives = order.length - positives;
  if (positives === 0 || negatives === 0) throw new Error('AUC needs both outcomes');
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

export interface ChurnPrediction {
  probability: number;
  /** The largest contributions to the log-odds, strongest first: the explanation of the score. */
  drivers: { feature: string; contribution: number }[];
}

export interface ChurnModelSummary {
  id: string;
  version: string;
  trainedOn: number;
  features: string[];
  intercept: number;
  weights: Record<string, number>;
}

export class ChurnModel {
  private constructor(
    readonly version: string,
    readonly trainedOn: number,
    private readonly fit: LogisticFit,
  ) {}

  static readonly ID = 'churn-logistic';

  /** Fits on customers with a known outcome. `version` names the training data, e.g. its fingerprint. */
  static train(examples: { input: ChurnModelInput; churned: boolean }[], version: string, l2 = 1): ChurnModel {
    if (examples.length < 50)
      throw new Error(`need at least 50 customers with a known outcome to fit the churn model, got ${examples.length}`);
    const fit = fitLogistic(
      examples.map((e) => churnFeatureVector(e.input)),
      examples.map((e) => (e.churned ? 1 : 0)),
      { l2 },
    );
    return new ChurnModel(version, examples.length, fit);
  }

  predict(input: ChurnModelInput): ChurnPrediction {
    const x = churnFeatureVector(input);
    const contributions = x.map((v, i) => ({ feature: CHURN_FEATURES[i]!, contribution: v * this.fit.weights[i]! }));
    const logit = contributions.reduce((s, c) => s + c.contribution, this.fit.intercept);
    const drivers = contributions
      .filter((c) => c.contribution !== 0)
      .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution))
      .slice(0, 3)
      .map((c) => ({ feature: c.feature, contribution: Math.round(c.contribution * 1000) / 1000 }));
    return { probability: sigmoid(logit), drivers };
  }

  summary(): ChurnModelSummary {
    return {
      id: ChurnModel.ID,
      version: this.version,
      trainedOn: this.trainedOn,
      features: CHURN_FEATURES,
      intercept: this.fit.intercept,
      weights: Object.fromEntries(CHURN_FEATURES.map((f, i) => [f, this.fit.weights[i]!])),
    };
  }
}
