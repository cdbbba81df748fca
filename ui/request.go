package ui

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"onedesk/i18n"
)

// fieldErr refuses a request (400) for its field with a sentence whose
// English printf format is the catalog key (assets/server/<lang>.json).
func fieldErr(field, format string, args ...any) error {
	return apiErr(fiber.StatusBadRequest, field, format, args...)
}

// apiErr is an error answer: status, field and a sentence said in the
// reader's language (the format is its catalog key).
func apiErr(status int, field, format string, args ...any) error {
	s := i18n.S(format, args...)
	return &apiError{Status: status, Message: s.String(), Field: field, Sentence: s}
}

// decode reads a JSON body into v, refusing unknown fields and wrong types
// with the field's name.
func decode(c *fiber.Ctx, v any) error {
	body := c.Body()
	if len(bytes.TrimSpace(body)) == 0 {
		return fieldErr("", "the request needs a JSON body")
	}
	// Only a script can send this type, and a page may send it only to its
	// own origin: a form another site submits (text/plain whose name and
	// value make JSON) is refused here.
	if !isJSONType(c.Get(fiber.HeaderContentType)) {
		return apiErr(fiber.StatusUnsupportedMediaType, "", "send the body as JSON, with Content-Type: application/json")
	}
	return decodeJSON(body, v)
}

// decodeJSON reads one JSON object into v as decode does, for a body or
// one item of a list read on its own.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			return fieldErr("", "the body must hold one JSON object")
		}
		return nil
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		if typeErr.Field == "" {
			return fieldErr("", "the body must be a JSON object")
		}
		return fieldErr(typeErr.Field, "%s must be %s, not %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return fieldErr("", "the body is not valid JSON")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return fieldErr(name, "unknown field %q", name)
	}
	return fieldErr("", "the body could not be read: %v", err)
}

// isJSONType tells whether a Content-Type is JSON (application/json or
// a +json type, any parameters).
func isJSONType(ct string) bool {
	t, _, err := mime.ParseMediaType(ct)
	return err == nil && (t == "application/json" || strings.HasPrefix(t, "application/") && strings.HasSuffix(t, "+json"))
}

func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "a number"
	case k == "string":
		return "a string"
	case k == "bool":
		return "true or false"
	case k == "slice":
		return "a list"
	case k == "map", k == "struct":
		return "an object"
	}
	return k
}

func paramID(c *fiber.Ctx) (int64, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiErr(fiber.StatusNotFound, "id", "%q is not an id", c.Params("id"))
	}
	return id, nil
}

// queryID reads an optional numeric id from the query string.
func queryID(c *fiber.Ctx, name string) (*int64, error) {
	v := c.Query(name)
	if v == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return nil, fieldErr(name, "%s must be an id, not %q", name, v)
	}
	return &id, nil
}

// pageSize is how many rows an id-paged list answers at a time.
const pageSize = 50

// cursorParam reads the ?cursor= of an id-paged list: the last id of the
// page before (0: from the top).
func cursorParam(c *fiber.Ctx) (int64, error) {
	id, err := queryID(c, "cursor")
	if err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}

// page trims a list read with one row more than pageSize and names the
// cursor of the next page ("" on the last).
func page[T any](list []T, id func(T) int64) ([]T, string) {
	if len(list) <= pageSize {
		return list, ""
	}
	list = list[:pageSize]
	return list, itoa(id(list[pageSize-1]))
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
