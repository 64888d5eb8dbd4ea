import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Contract checks for the API tests: every answer a test receives from /api/v1 must be documented in the server's
 * own OpenAPI document (its status, and its content type for errors) and its body must follow the schema there.
 */
export class ContractChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly operations: { method: string; template: string; pattern: RegExp; params: number }[] = [];
  private readonly doc: OpenApiDoc;

  constructor(doc: unknown) {
    this.doc = doc as OpenApiDoc;
    (addFormats as unknown as (ajv: Ajv2020) => void)(this.ajv);
    this.ajv.addSchema(this.doc as object, DOC_ID);
    for (const [template, methods] of Object.entries(this.doc.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
      for (const method of Object.keys(methods))
        this.operations.push({ method, template, pattern, params: (template.match(/\{/g) ?? []).length });
    }
    // A literal segment beats a parameter: /approvals/bulk-approve before /approvals/{id}.
    this.operations.sort((a, b) => a.params - b.params);
  }

  /** Throws, naming the route and what differs, when an answer breaks the contract. */
  check(method: string, path: string, status: number, contentType: string | null, body: unknown): void {
    const url = new URL(path, 'http://in-process');
    if (!url.pathname.startsWith('/api/v1/')) return;
    const op = this.operations.find((o) => o.method === method.toLowerCase() && o.pattern.test(url.pathname));
    const where = `${method} ${url.pathname} answered ${status}`;
    if (!op) {
      // No such route: the answer must still be a problem document.
      if (status === 404 || status === 405) return this.validate(`${DOC_ID}#/components/schemas/Problem`, body, where);
      throw new Error(`contract: ${where}, but the OpenAPI document has no such operation`);
    }
    const pointer = `/paths/${escape(op.template)}/${op.method}/responses/${status}`;
    const response = this.doc.paths[op.template]![op.method]!.responses[String(status)];
    if (!response)
      throw new Error(`contract: ${where}, a status the OpenAPI document does not list for ${op.method.toUpperCase()} ${op.template}`);
    const media = Object.keys(response.content ?? {})[0];
    if (!media) return;
    if (media === 'application/problem+json' && contentType !== media)
      throw new Error(`contract: ${where} with content-type ${contentType}, not ${media}`);
    this.validate(`${DOC_ID}#${pointer}/content/${escape(media)}/schema`, body, where);
  }

  private validate(ref: string, body: unknown, where: string): void {
    const validate = this.ajv.getSchema(ref) ?? this.ajv.compile({ $ref: ref });
    if (!validate(body)) {
      const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '(body)'} ${e.message}`);
      throw new Error(
        `contract: ${where}; the body does not follow its schema: ${errors.join('; ')}\n${JSON.stringify(body)?.slice(0, 500)}`,
      );
    }
  }
}

const DOC_ID = 'acs-openapi.json';
const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

interface OpenApiDoc {
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }> }>>;
}
