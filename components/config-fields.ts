/**
 * Field types the stack configuration is made of, shared by the schema (config-schema.ts) and
 * the add-on registry's settings (platform/addons.ts). Pure: zod only, no Pulumi, no I/O.
 */
import { z } from "zod";

export const environments = ["local", "staging", "production"] as const;
export type Environment = (typeof environments)[number];
export const clouds = ["aws", "azure", "gcp", "existing"] as const;
export type Cloud = (typeof clouds)[number];

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const dnsLabel = z
    .string()
    .max(40, "must be at most 40 characters")
    .regex(DNS_LABEL, "must be a DNS-1123 label: lower-case letters, digits and '-', starting and ending with a letter or digit");

export const dnsName = z
    .string()
    .regex(/^([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)+[a-z]{2,}$/, "must be a DNS name such as staging.example.com");

export const cidr = z
    .string()
    .regex(/^(\d{1,3}\.){3}\d{1,3}\/(\d|[12]\d|3[0-2])$/, "must be an IPv4 CIDR such as 203.0.113.0/24")
    .refine((value) => value.split("/")[0].split(".").every((octet) => Number(octet) <= 255), "has an octet above 255");

const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
export const labelKey = z.string().refine((key) => {
    const [prefix, name] = key.includes("/") ? key.split("/", 2) : [undefined, key];
    return LABEL_NAME.test(name) && (prefix === undefined || /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(prefix));
}, "must be a Kubernetes label key ([prefix/]name, name at most 63 characters)");
export const labelValue = z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, "must be a Kubernetes label value (at most 63 characters)");
export const labels = z.record(labelKey, labelValue);

/** Kubernetes resource.Quantity, as apimachinery parses it. */
const QUANTITY = /^[+-]?((\d+(\.\d*)?)|(\.\d+))(([KMGTPE]i)|[numkMGTPE]|([eE][+-]?((\d+(\.\d*)?)|(\.\d+))))?$/;
const quantityInput = z.union([z.string(), z.number()]);
const asQuantity = z.string().regex(QUANTITY, "must be a Kubernetes quantity such as 500m, 4, 8Gi");
// `format` names the type in the generated reference (scripts/config-reference.ts).
export const quantity = quantityInput.transform(String).pipe(asQuantity).meta({ format: "quantity" });
/** A quantity with a default; the default sits on the input side, so the generated reference shows it. */
export const quantityOr = (value: string) => quantityInput.default(value).transform(String).pipe(asQuantity).meta({ format: "quantity" });

export const gitRepository = z.strictObject({
    /** HTTPS or SSH URL of the repository Flux pulls from. */
    url: z.string().regex(/^(https|ssh):\/\/\S+$/, "must be an https:// or ssh:// URL"),
    /** Branch to follow. */
    branch: z.string().min(1).default("main"),
    /** Directory inside the repository that holds the manifests. */
    path: z.string().min(1).default("./"),
});

/** The value of `environment`'s entry: per-environment defaults read as a table. */
export const byEnv = <T>(env: Environment, values: Record<Environment, T>): T => values[env];

/**
 * One add-on's block under `platform:addons`: `enabled` (default true) and its own settings.
 * Unknown keys are errors. The schema adds `values` (extra chart values, config-schema.ts)
 * and makes an absent block mean every default.
 */
export const addonSettings = <Shape extends z.ZodRawShape>(shape: Shape) => z.strictObject({ enabled: z.boolean().default(true), ...shape });

/**
 * A top-level key that holds a secret: optional, set with `pulumi config set --secret`, kept a
 * secret Output by config.ts, and shown as secret in the generated reference.
 */
export const secret = <T extends z.ZodType>(schema: T) => schema.optional().meta({ secret: true });
export const isSecret = (schema: z.ZodType): boolean => schema.meta()?.secret === true;
