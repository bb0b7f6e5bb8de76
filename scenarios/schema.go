package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
)

// Patterns of the unit spellings, for editors; the loader's parsers are
// the authority and accept exactly these.
const (
	sizePattern     = `^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*([kKmMgGtTpPeE]([iI]?[bB])?|[bB])?\s*$`
	ratePattern     = `^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*([kKmMgGtTpPeE]([iI]?[bB])?|[bB])?(/[sS])?\s*$`
	durationPattern = `^\s*(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)\s*$`
	percentPattern  = `^\s*([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*%?\s*$`
	maxDurPattern   = `^\s*<=\s*(0|(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+)\s*$`
	thresholdPat    = `^\s*(<=|<|>=|>|==)\s*\S.*$`
	envPattern      = `\$\{[A-Za-z_][A-Za-z0-9_]*(:-[^}]*)?\}`
)

// obj is a JSON object; json.Marshal sorts its keys, which keeps the
// output stable.
type obj = map[string]any

// Schema returns a JSON Schema (draft 2020-12) of the scenario format, for
// editors that offer completion and checking of YAML files. It is written
// from the same key table the loader uses, so the two agree on every key.
// A value may always be a ${VAR} reference instead of its usual type.
func Schema() []byte {
	defs := obj{
		"env": obj{"type": "string", "pattern": envPattern,
			"description": "A ${VAR} or ${VAR:-default} reference, expanded from the environment."},
		"threshold": obj{"anyOf": []any{obj{"type": "string", "pattern": thresholdPat}, ref("env")},
			"description": `A comparison and a value in the metric's unit: "<= 2ms", ">= 20000", ">= 200MiB/s", ">= 90%".`},
	}
	metrics := obj{}
	for _, m := range MetricNames() {
		u, _ := MetricUnit(m)
		metrics[m] = obj{"$ref": "#/$defs/threshold", "description": unitDoc(u)}
	}
	defs["criteria"] = obj{"type": "object", "additionalProperties": false, "properties": metrics,
		"description": `Pass/fail rules, metric: "<cmp> <value>".`}

	all := objects()
	for name, keys := range all {
		if name == objScenario {
			continue
		}
		defs[name] = objectSchema(keys)
	}
	root := objectSchema(all[objScenario])
	root["$schema"] = "https://json-schema.org/draft/2020-12/schema"
	root["$id"] = "urn:lunbench:scenario"
	root["title"] = "lunbench scenario"
	root["description"] = "A lunbench benchmark or failover-drill scenario."
	root["required"] = []string{"name", "targets", "phases"}
	root["$defs"] = defs
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // "<= 2ms" reads better than "\u003c= 2ms"
	enc.SetIndent("", "  ")
	if err := enc.Encode(root); err != nil {
		panic(fmt.Sprintf("scenarios: schema: %v", err)) // only maps, slices, strings and numbers above
	}
	return buf.Bytes()
}

func ref(def string) obj { return obj{"$ref": "#/$defs/" + def} }

func unitDoc(u Unit) string {
	switch u {
	case Seconds:
		return `A duration: "<= 2ms".`
	case BytesPerSec:
		return `Bytes per second: ">= 200MiB/s".`
	case Fraction:
		return `A share: ">= 90%".`
	}
	return `A number: ">= 20000", "== 0".`
}

// objectSchema describes one mapping of the format.
func objectSchema(keys []keyDef) obj {
	props := obj{}
	var required []string
	for _, k := range keys {
		props[k.name] = keySchema(k)
		if k.required {
			required = append(required, k.name)
		}
	}
	o := obj{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// keySchema describes one key's value.
func keySchema(k keyDef) obj {
	orEnv := func(alts ...any) obj {
		return obj{"description": k.doc, "anyOf": append(alts, ref("env"))}
	}
	str := func(pattern string) obj { return obj{"type": "string", "pattern": pattern} }
	nonNeg := func(typ string) obj {
		o := obj{"type": typ, "minimum": max(k.min, 0)}
		if k.max > 0 && k.kind != kSize {
			o["maximum"] = k.max
		}
		return o
	}
	switch k.kind {
	case kName:
		return orEnv(str(validName.String()))
	case kInt, kUint64:
		return orEnv(nonNeg("integer"))
	case kFloat:
		return orEnv(nonNeg("number"))
	case kBool:
		return orEnv(obj{"type": "boolean"})
	case kSize:
		return orEnv(nonNeg("integer"), str(sizePattern))
	case kDuration:
		return orEnv(obj{"const": 0}, str(durationPattern))
	case kRate:
		return orEnv(nonNeg("number"), str(ratePattern))
	case kPercent:
		return orEnv(obj{"type": "number", "minimum": 0, "maximum": 100}, str(percentPattern))
	case kEnum:
		return orEnv(obj{"enum": k.enum})
	case kNames:
		return obj{"description": k.doc, "type": "array",
			"items": obj{"anyOf": []any{str(validName.String()), ref("env")}}}
	case kStrings:
		return obj{"description": k.doc, "type": "array",
			"items": obj{"type": "string", "minLength": 1}}
	case kCriteria:
		return obj{"description": k.doc, "$ref": "#/$defs/criteria"}
	case kMaxDuration:
		return orEnv(str(maxDurPattern))
	case kObject:
		return obj{"description": k.doc, "$ref": "#/$defs/" + k.object}
	case kList:
		return obj{"description": k.doc, "type": "array", "items": ref(k.object)}
	case kScalarList:
		el := k
		el.kind, el.doc = k.elem, ""
		return obj{"description": k.doc, "type": "array", "minItems": 1, "items": keySchema(el)}
	case kSizeMix:
		size := []any{nonNeg("integer"), str(sizePattern), ref("env")}
		mix := obj{"type": "object", "minProperties": 1, "maxProperties": MaxMixSizes,
			"propertyNames":        obj{"pattern": sizePattern},
			"additionalProperties": obj{"anyOf": []any{obj{"type": "integer", "minimum": 1, "maximum": 100}, str(percentPattern), ref("env")}}}
		one := obj{"anyOf": append(slices.Clone(size), mix)}
		perOp := obj{"type": "object", "additionalProperties": false, "minProperties": 1,
			"properties": obj{"read": one, "write": one}}
		return orEnv(append(size[:2], mix, perOp)...)
	case kDist:
		pct := obj{"anyOf": []any{obj{"type": "number", "minimum": 0, "maximum": 100}, str(percentPattern), ref("env")}}
		one := func(key string, v any) obj {
			return obj{"type": "object", "additionalProperties": false, "required": []string{key}, "properties": obj{key: v}}
		}
		return orEnv(obj{"enum": []string{string(Uniform), string(Normal)}},
			one("zipf", obj{"type": "number", "exclusiveMinimum": 0, "maximum": 10}),
			one("pareto", obj{"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1}),
			one("normal", pct),
			one("hot", obj{"type": "array", "minItems": 1, "items": ref(objHotBand)}))
	}
	return obj{"description": k.doc, "type": "string"}
}
