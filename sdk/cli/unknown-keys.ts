/**
 * Keys a JSON value has that its zod schema does not know (a misspelt `fallbak`):
 * zod strips them silently when parsing, so `playmind validate` walks the raw value
 * beside the schema to report them. Records (free-form maps) accept any key.
 *
 * @module
 */
import type { z } from 'zod';

/** The parts of zod 4's schema definitions the walk reads. */
interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  catchall?: z.ZodType;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  discriminator?: string;
  values?: unknown[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/**
 * Lists the keys of `value` that `schema` does not declare, as dotted paths.
 * @example unknownKeys(ManifestSchema, { kind: 'policy', policy: { fallbak: {} } }) // ['policy.fallbak']
 */
export function unknownKeys(schema: z.ZodType, value: unknown): string[] {
  const out: string[] = [];
  walk(schema, value, [], out);
  return out;
}

function walk(schema: z.ZodType, value: unknown, path: (string | number)[], out: string[]): void {
  const def = defOf(schema);
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'prefault':
    case 'readonly':
    case 'nonoptional':
      if (def.innerType) walk(def.innerType, value, path, out);
      return;
    case 'pipe':
      // z.preprocess(fn, schema): the value an object keeps goes to the output schema as it is
      if (def.in && defOf(def.in).type === 'transform' && def.out) walk(def.out, value, path, out);
      else if (def.in) walk(def.in, value, path, out);
      return;
    case 'array':
      if (Array.isArray(value) && def.element) value.forEach((v, i) => walk(def.element!, v, [...path, i], out));
      return;
    case 'union': {
      if (!value || typeof value !== 'object' || !def.options) return;
      const tag = def.discriminator ? (value as Record<string, unknown>)[def.discriminator] : undefined;
      const option = def.options.find((o) => {
        const shape = defOf(o).shape;
        const literal = def.discriminator && shape ? defOf(shape[def.discriminator]!).values : undefined;
        return literal?.includes(tag);
      });
      if (option) walk(option, value, path, out);
      return;
    }
    case 'object': {
      if (!value || typeof value !== 'object' || Array.isArray(value) || !def.shape) return;
      for (const [key, v] of Object.entries(value)) {
        const field = def.shape[key];
        if (field) walk(field, v, [...path, key], out);
        else if (!def.catchall) out.push([...path, key].join('.'));
      }
      return;
    }
    default:
      return;
  }
}
