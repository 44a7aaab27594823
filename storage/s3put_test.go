package storage

import "testing"

// Part sizes keep an upload of the bound's size within S3's 10,000 parts,
// and the first buffer of a small upload is about its size, not a part.
func TestS3Sizing(t *testing.T) {
	s := &S3{cfg: S3Config{PartSize: 8 << 20, BufferMemory: 256 << 20}}
	tests := []struct {
		name      string
		opts      PutOptions
		part      int
		firstRead int
	}{
		{"4 KiB upload", PutOptions{Size: -1, SizeHint: 4<<10 + 400}, 8 << 20, 64 << 10},
		{"no hint", PutOptions{Size: -1, SizeHint: -1}, 8 << 20, 1 << 20},
		{"exactly 64 KiB", PutOptions{Size: -1, SizeHint: 64 << 10}, 8 << 20, 128 << 10},
		{"3 MiB", PutOptions{Size: -1, SizeHint: 3 << 20}, 8 << 20, 4 << 20},
		{"6 MiB: a whole part", PutOptions{Size: -1, SizeHint: 6 << 20}, 8 << 20, 8 << 20},
		{"1 GiB", PutOptions{Size: -1, SizeHint: 1 << 30}, 8 << 20, 8 << 20},
		{"78 GiB fits 10,000 parts", PutOptions{Size: -1, SizeHint: 78 << 30}, 8 << 20, 8 << 20},
		{"79 GiB doubles the part", PutOptions{Size: -1, SizeHint: 79 << 30}, 16 << 20, 16 << 20},
		{"known 1 TiB", PutOptions{Size: 1 << 40, SizeHint: -1}, 128 << 20, 128 << 20},
		{"huge hint, MaxSize bounds it", PutOptions{Size: -1, SizeHint: 1 << 40, MaxSize: 4 << 10}, 8 << 20, 64 << 10},
		{"no hint, MaxSize bounds it", PutOptions{Size: -1, SizeHint: -1, MaxSize: 100 << 20}, 8 << 20, 8 << 20},
		{"parts no larger than BufferMemory", PutOptions{Size: -1, SizeHint: 1 << 50}, 256 << 20, 256 << 20},
	}
	for _, tt := range tests {
		bound := sizeBound(tt.opts)
		part := s.partSize(bound)
		if part != tt.part {
			t.Errorf("%s: part size %d MiB, want %d MiB", tt.name, part>>20, tt.part>>20)
		}
		if bound > 0 && bound <= s3MaxParts*s.cfg.BufferMemory && int64(part)*s3MaxParts < bound {
			t.Errorf("%s: %d parts of %d bytes cannot hold %d bytes", tt.name, s3MaxParts, part, bound)
		}
		if got := headSize(bound, part); got != tt.firstRead {
			t.Errorf("%s: first buffer %d KiB, want %d KiB", tt.name, got>>10, tt.firstRead>>10)
		}
	}
}
