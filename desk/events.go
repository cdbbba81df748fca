package desk

import "onedesk/store"

// ref is how a "replied" event names the template (nil: none).
func (tr *TemplateReply) ref() *store.TemplateRef {
	if tr == nil {
		return nil
	}
	return &store.TemplateRef{Name: tr.Name, Language: tr.Language, Params: tr.Params}
}

// templateReply is the template a "replied" event names (nil: none).
func templateReply(ref *store.TemplateRef) *TemplateReply {
	if ref == nil {
		return nil
	}
	return &TemplateReply{Name: ref.Name, Language: ref.Language, Params: ref.Params}
}
