package notify

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

//go:embed lang/*.json
var langFiles embed.FS

// DefaultLang is the language used when a browser's is not available.
const DefaultLang = "en"

// Catalog holds the push texts of every language, one JSON file per
// language in lang/ (lang/<code>.json, e.g. lang/uk.json); a key missing
// from a language falls back to English. Add a language by adding a file.
type Catalog struct {
	msgs map[string]map[string]string
}

// LoadCatalog reads the embedded language files.
func LoadCatalog() (*Catalog, error) {
	names, err := fs.Glob(langFiles, "lang/*.json")
	if err != nil {
		return nil, fmt.Errorf("notify: list languages: %w", err)
	}
	c := &Catalog{msgs: make(map[string]map[string]string, len(names))}
	for _, n := range names {
		b, err := langFiles.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("notify: read %s: %w", n, err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("notify: %s: %w", n, err)
		}
		c.msgs[strings.TrimSuffix(strings.TrimPrefix(n, "lang/"), ".json")] = m
	}
	if _, ok := c.msgs[DefaultLang]; !ok {
		return nil, fmt.Errorf("notify: no %s.json", DefaultLang)
	}
	return c, nil
}

// Languages lists the catalog's language codes.
func (c *Catalog) Languages() []string {
	out := make([]string, 0, len(c.msgs))
	for k := range c.msgs {
		out = append(out, k)
	}
	return out
}

// Match picks the catalog language for a browser language tag such as
// "ru-RU" or "en"; DefaultLang when none fits.
func (c *Catalog) Match(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if _, ok := c.msgs[tag]; ok {
		return tag
	}
	if base, _, ok := strings.Cut(tag, "-"); ok {
		if _, ok := c.msgs[base]; ok {
			return base
		}
	}
	return DefaultLang
}

// T returns the text of key in lang with {name} placeholders filled.
func (c *Catalog) T(lang, key string, args ...string) string {
	s, ok := c.msgs[lang][key]
	if !ok {
		s, ok = c.msgs[DefaultLang][key]
		if !ok {
			return key
		}
	}
	if len(args) == 0 {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+args[i]+"}", args[i+1])
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// Text is the body of a push for n in lang. objType is the Class-marked
// object's type ("photo", "post", ...; empty if unknown).
func (c *Catalog) Text(lang string, n *Notification, names Names, objType string) string {
	name := func(u int64) string {
		if names != nil {
			if s := names.Name(u); s != "" {
				return s
			}
		}
		return c.T(lang, "user", "id", strconv.FormatInt(u, 10))
	}
	actor := ""
	if len(n.Actors) > 0 {
		actor = name(n.Actors[0])
	}
	key := string(n.Kind) + ".one"
	if n.ActorCount > 1 && n.Kind != KindGift && n.Kind != KindLive {
		key = string(n.Kind) + ".many"
	}
	if objType == "" {
		objType = "post"
	}
	return c.T(lang, key, "actor", actor, "n", strconv.Itoa(n.ActorCount-1),
		"object", c.T(lang, "object."+objType), "kinds", c.kinds(lang, n.Reactions))
}

// kinds names reaction kinds for a push text: each kind's "reaction.<kind>"
// text (the language's, else English's), or the kind's own name for a
// configured kind no file names.
func (c *Catalog) kinds(lang string, kinds []string) string {
	if len(kinds) == 0 {
		return ""
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		key := "reaction." + k
		if s := c.T(lang, key); s != key {
			parts[i] = s
		} else {
			parts[i] = k
		}
	}
	return strings.Join(parts, " ")
}
