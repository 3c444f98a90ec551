package cmdutil

import (
	"errors"
	"fmt"
	"sync"

	"github.com/AlecAivazis/survey/v2"
	"github.com/AlecAivazis/survey/v2/terminal"
)

// Prompter asks the user questions. Commands get one from the factory
// only when the streams can prompt; tests use PromptStub.
type Prompter interface {
	Input(message, defaultValue string) (string, error)
	Password(message string) (string, error)
	Confirm(message string, defaultValue bool) (bool, error)
	// Select returns the index of the chosen option.
	Select(message string, options []string, defaultValue string) (int, error)
}

// surveyPrompter asks on a real terminal.
type surveyPrompter struct{ opt survey.AskOpt }

func newSurveyPrompter(io *IOStreams) (Prompter, error) {
	in, ok1 := io.In.(terminal.FileReader)
	out, ok2 := io.Out.(terminal.FileWriter)
	errOut, ok3 := io.ErrOut.(terminal.FileWriter)
	if !ok1 || !ok2 || !ok3 {
		return nil, errors.New("cannot prompt: the streams are not a terminal")
	}
	return &surveyPrompter{opt: survey.WithStdio(in, out, errOut)}, nil
}

func (p *surveyPrompter) ask(q survey.Prompt, ans any) error {
	err := survey.AskOne(q, ans, p.opt)
	if errors.Is(err, terminal.InterruptErr) {
		return ErrCancelled
	}
	return err
}

func (p *surveyPrompter) Input(message, def string) (string, error) {
	var s string
	err := p.ask(&survey.Input{Message: message, Default: def}, &s)
	return s, err
}

func (p *surveyPrompter) Password(message string) (string, error) {
	var s string
	err := p.ask(&survey.Password{Message: message}, &s)
	return s, err
}

func (p *surveyPrompter) Confirm(message string, def bool) (bool, error) {
	var b bool
	err := p.ask(&survey.Confirm{Message: message, Default: def}, &b)
	return b, err
}

func (p *surveyPrompter) Select(message string, options []string, def string) (int, error) {
	var i int
	q := &survey.Select{Message: message, Options: options, PageSize: min(max(len(options), 1), 15)}
	if def != "" {
		q.Default = def
	}
	err := p.ask(q, &i)
	return i, err
}

// Prompt returns the prompter, or nil when the user cannot be asked
// (stdin or stdout is not a terminal).
func (f *Factory) Prompt() Prompter {
	if !f.IO.CanPrompt() {
		return nil
	}
	if f.Prompter != nil {
		return f.Prompter
	}
	p, err := newSurveyPrompter(f.IO)
	if err != nil {
		return nil
	}
	f.Prompter = p
	return p
}

// RequireInput makes sure *value is set: on a terminal it asks with
// question; otherwise it fails with a one-line usage error naming what
// is missing (a flag like "--subject" or an argument like "SUBJECT").
func (f *Factory) RequireInput(value *string, name, question string) error {
	if *value != "" {
		return nil
	}
	p := f.Prompt()
	if p == nil {
		return FlagErrorf("%s is required", name)
	}
	for *value == "" {
		v, err := p.Input(question, "")
		if err != nil {
			return err
		}
		*value = v
	}
	return nil
}

// ConfirmDestructive lets a destructive action go ahead: with force it
// does; on a terminal it asks question (default no); otherwise it fails
// telling the user to pass --force.
func (f *Factory) ConfirmDestructive(force bool, question string) error {
	if force {
		return nil
	}
	p := f.Prompt()
	if p == nil {
		return FlagErrorf("refusing to continue without confirmation: pass --force")
	}
	ok, err := p.Confirm(question, false)
	if err != nil {
		return err
	}
	if !ok {
		return ErrCancelled
	}
	return nil
}

// PromptStub is a Prompter for tests: it hands out Answers in order and
// records each question in Asked. An answer of type error is returned
// as the error.
type PromptStub struct {
	mu      sync.Mutex
	Answers []any
	Asked   []string
}

var _ Prompter = (*PromptStub)(nil)

func (s *PromptStub) next(message string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Asked = append(s.Asked, message)
	if len(s.Answers) == 0 {
		return nil, fmt.Errorf("prompt stub: unexpected question %q", message)
	}
	a := s.Answers[0]
	s.Answers = s.Answers[1:]
	if err, ok := a.(error); ok {
		return nil, err
	}
	return a, nil
}

func (s *PromptStub) Input(message, _ string) (string, error) {
	a, err := s.next(message)
	if err != nil {
		return "", err
	}
	v, ok := a.(string)
	if !ok {
		return "", fmt.Errorf("prompt stub: %q wants a string, have %T", message, a)
	}
	return v, nil
}

func (s *PromptStub) Password(message string) (string, error) { return s.Input(message, "") }

func (s *PromptStub) Confirm(message string, _ bool) (bool, error) {
	a, err := s.next(message)
	if err != nil {
		return false, err
	}
	v, ok := a.(bool)
	if !ok {
		return false, fmt.Errorf("prompt stub: %q wants a bool, have %T", message, a)
	}
	return v, nil
}

func (s *PromptStub) Select(message string, options []string, _ string) (int, error) {
	a, err := s.next(message)
	if err != nil {
		return 0, err
	}
	switch v := a.(type) {
	case int:
		return v, nil
	case string:
		for i, o := range options {
			if o == v {
				return i, nil
			}
		}
		return 0, fmt.Errorf("prompt stub: %q has no option %q in %v", message, v, options)
	}
	return 0, fmt.Errorf("prompt stub: %q wants an int or string, have %T", message, a)
}
