package api

import (
	"fmt"
	"strings"
)

// ApiError is the error object of every JetStream API response and pub
// ack. Clients branch on ErrCode.
type ApiError struct {
	Code        int    `json:"code"`
	ErrCode     uint16 `json:"err_code,omitempty"`
	Description string `json:"description,omitempty"`
}

func (e *ApiError) Error() string {
	return fmt.Sprintf("%s (%d)", e.Description, e.ErrCode)
}

// With returns a copy of e with each {key} placeholder of its description
// replaced by the value that follows it: e.With("err", err, "seq", 5).
func (e *ApiError) With(kv ...any) *ApiError {
	c := *e
	for i := 0; i+1 < len(kv); i += 2 {
		c.Description = strings.ReplaceAll(c.Description, "{"+fmt.Sprint(kv[i])+"}", fmt.Sprint(kv[i+1]))
	}
	return &c
}

// Is matches errors by err_code, so errors.Is works on copies made by With.
func (e *ApiError) Is(target error) bool {
	t, ok := target.(*ApiError)
	return ok && t.ErrCode == e.ErrCode
}
