package desk

import (
	"bytes"
	"context"
	"image"
	_ "image/gif" // decoders for pictures agents upload
	"image/jpeg"
	_ "image/png"

	"golang.org/x/image/draw"
	_ "golang.org/x/image/webp"

	"onedesk/store"
)

// Agents' profile pictures, shown to chat visitors beside replies.
const (
	MaxAvatarBytes = 5 << 20 // an upload
	maxAvatarSide  = 8000    // pixels either way, checked before decoding
	avatarSide     = 192     // the stored square
)

// SetAvatar makes a picture (PNG, JPEG, GIF or WebP) an agent's profile
// picture and returns its key. It is cut to a centred square and drawn
// anew as a small JPEG: what is stored and served is pixels only, none of
// the file's metadata (camera, place, names).
func (d *Desk) SetAvatar(ctx context.Context, agentID int64, data []byte) (string, error) {
	if len(data) > MaxAvatarBytes {
		return "", inputErr("avatar", "a picture may be at most %d MB", MaxAvatarBytes>>20)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", inputErr("avatar", "send a PNG, JPEG, GIF or WebP picture")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxAvatarSide || cfg.Height > maxAvatarSide {
		return "", inputErr("avatar", "a picture may be at most %d pixels wide and high", maxAvatarSide)
	}
	src, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return "", inputErr("avatar", "send a PNG, JPEG, GIF or WebP picture")
	}
	b := src.Bounds()
	side := min(b.Dx(), b.Dy())
	crop := image.Rect(b.Min.X+(b.Dx()-side)/2, b.Min.Y+(b.Dy()-side)/2, 0, 0)
	crop.Max = crop.Min.Add(image.Pt(side, side))
	out := min(side, avatarSide)
	dst := image.NewRGBA(image.Rect(0, 0, out, out))
	draw.Draw(dst, dst.Bounds(), image.White, image.Point{}, draw.Src) // transparent parts on white
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, crop, draw.Over, nil)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85}); err != nil {
		return "", err
	}
	var key string
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		if ok, err := tx.Exists(ctx, "agents", agentID); err != nil {
			return err
		} else if !ok {
			return &store.NotFoundError{Thing: "agent", ID: agentID}
		}
		key, err = tx.SetAgentAvatar(ctx, agentID, buf.Bytes(), "image/jpeg")
		return err
	})
	return key, err
}

// RemoveAvatar takes an agent's picture away: their initials show.
func (d *Desk) RemoveAvatar(ctx context.Context, agentID int64) error {
	return d.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteAgentAvatar(ctx, agentID) })
}
