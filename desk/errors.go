package desk

// TransitionError refuses a change that the present state of what it
// changes does not allow ("a closed ticket cannot become pending"): the
// request is well formed but conflicts with the state (HTTP 409). To
// IsInput it is the InputError for its field.
type TransitionError struct {
	InputError
	From, To string
}

func (e *TransitionError) Unwrap() error { return &e.InputError }

// statusTransitionErr refuses moving a ticket from one status to another.
func statusTransitionErr(from, to string) error {
	ie := InputErrorf("status", "a %s ticket cannot become %s", from, to).(*InputError)
	return &TransitionError{InputError: *ie, From: from, To: to}
}
