package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: msg}})
}

// fieldError is a validation failure of one input field.
type fieldError struct {
	status int // 400 or 422
	field  string
	msg    string
}

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func invalid(field, format string, args ...any) *fieldError {
	return &fieldError{status: http.StatusBadRequest, field: field, msg: fmt.Sprintf(format, args...)}
}

func writeFieldError(w http.ResponseWriter, err error) bool {
	var fe *fieldError
	if !errors.As(err, &fe) {
		return false
	}
	writeJSON(w, fe.status, errorBody{Error: errorDetail{Code: "invalid_" + strings.ReplaceAll(fe.field, ".", "_"), Message: fe.Error(), Field: fe.field}})
	return true
}

// maxAPIBody bounds admin API request bodies (a script is at most 51,200
// characters; a sample payload rarely more than a few KiB).
const maxAPIBody = 1 << 20

// decode reads a JSON body strictly: unknown fields and trailing data are
// errors that name what was wrong.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &mbe):
			writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", fmt.Sprintf("request body is over %d bytes", maxAPIBody))
		case errors.Is(err, io.EOF):
			writeError(w, http.StatusBadRequest, "invalid_json", "request body is empty; expected a JSON object")
		case errors.As(err, &se):
			writeError(w, http.StatusBadRequest, "invalid_json", fmt.Sprintf("request body is not valid JSON at byte %d: %v", se.Offset, se))
		case errors.As(err, &te):
			writeError(w, http.StatusBadRequest, "invalid_"+te.Field, fmt.Sprintf("field %q must be %s, got a JSON %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value))
		default:
			// DisallowUnknownFields reports `json: unknown field "x"`.
			writeError(w, http.StatusBadRequest, "invalid_json", strings.TrimPrefix(err.Error(), "json: "))
		}
		return false
	}
	if dec.More() {
		writeError(w, http.StatusBadRequest, "invalid_json", "request body has data after the JSON object")
		return false
	}
	return true
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	default:
		return "a number"
	}
}
