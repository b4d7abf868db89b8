;; KEN's fast density pass in WebAssembly SIMD (f64x2): the same computation, operation for operation,
;; as recurrenceDensities in row.ts, so its densities are bit-identical to the TypeScript ones.
;;
;; Per row:
;;  1. two values at a time: nearest grid point p (Math.round, clamped), t = (grid[p] - x) / h and the
;;     arguments of the three exps (t0 and the two walk ratios r0);
;;  2. all exps of the row in one loop ($expArray), bit-identical to V8's Math.exp (fdlibm's algorithm);
;;  3. value by value: the outward walks of row.ts, its four chains held in two f64x2 vectors per side.
;; out[] has four padding slots on each side, so a walk near the grid's ends needs no tail code: what
;; lands in the padding is dropped, and every real slot receives exactly the terms row.ts adds to it,
;; in the same order.
;;
;; Memory (byte addresses): 0 .. heapBase the exp's constants; from heapBase on, laid out by the caller
;; (wasm-densities.ts), each part 16-byte aligned:
;;   row:     n float32 values, plus one more (any finite value) when n is odd
;;   grid:    k float64 grid points
;;   out:     k float64 densities, with 4 float64 of padding before out[0] and after out[k-1]
;;   scratch: 48 bytes per pair of values: exp arguments, then results (right r0, left r0) of the first
;;            value, of the second, then t0 of both
;;   pidx:    p of each value (int32)
(module
  (memory (export "memory") 1)

  ;; The exp's constants, at addresses 0 .. 304 (the caller's data starts at heapBase). Loaded from
  ;; memory inside the loop: TurboFan would rebuild a v128.const at each of its uses, in three instructions.
  (global (export "heapBase") i32 (i32.const 512))
  (func $constants
    (v128.store offset=0 (i32.const 0) (v128.const f64x2 0x1.71547652b82fep0 0x1.71547652b82fep0)) ;; 1/ln2
    (v128.store offset=16 (i32.const 0) (v128.const f64x2 0.5 0.5)) ;; 0.5
    (v128.store offset=32 (i32.const 0) (v128.const i64x2 0x8000000000000000 0x8000000000000000)) ;; sign bit
    (v128.store offset=48 (i32.const 0) (v128.const f64x2 0x1.62e4300000000p-2 0x1.62e4300000000p-2)) ;; ~0.5 ln2
    (v128.store offset=64 (i32.const 0) (v128.const f64x2 0x1.62e42fee00000p-1 0x1.62e42fee00000p-1)) ;; ln2 high
    (v128.store offset=80 (i32.const 0) (v128.const f64x2 0x1.a39ef35793c76p-33 0x1.a39ef35793c76p-33)) ;; ln2 low
    (v128.store offset=96 (i32.const 0) (v128.const f64x2 0x1.555555555553ep-3 0x1.555555555553ep-3)) ;; P1
    (v128.store offset=112 (i32.const 0) (v128.const f64x2 -0x1.6c16c16bebd93p-9 -0x1.6c16c16bebd93p-9)) ;; P2
    (v128.store offset=128 (i32.const 0) (v128.const f64x2 0x1.1566aaf25de2cp-14 0x1.1566aaf25de2cp-14)) ;; P3
    (v128.store offset=144 (i32.const 0) (v128.const f64x2 -0x1.bbd41c5d26bf1p-20 -0x1.bbd41c5d26bf1p-20)) ;; P4
    (v128.store offset=160 (i32.const 0) (v128.const f64x2 0x1.6376972bea4d0p-25 0x1.6376972bea4d0p-25)) ;; P5
    (v128.store offset=176 (i32.const 0) (v128.const f64x2 1 1)) ;; 1
    (v128.store offset=192 (i32.const 0) (v128.const f64x2 2 2)) ;; 2
    (v128.store offset=208 (i32.const 0) (v128.const f64x2 0x1.00000000003ffp52 0x1.00000000003ffp52)) ;; 2^52 + 1023
    (v128.store offset=224 (i32.const 0) (v128.const f64x2 0x1p-28 0x1p-28)) ;; 2^-28
    (v128.store offset=240 (i32.const 0) (v128.const f64x2 0x1.5bf0a8b145769p1 0x1.5bf0a8b145769p1)) ;; e
    (v128.store offset=256 (i32.const 0) (v128.const f64x2 inf inf)) ;; inf
    (v128.store offset=272 (i32.const 0) (v128.const f64x2 0x1.62e42fefa39efp9 0x1.62e42fefa39efp9)) ;; overflow threshold
    (v128.store offset=288 (i32.const 0) (v128.const f64x2 -0x1.74910d52d3051p9 -0x1.74910d52d3051p9)) ;; underflow threshold
  )
  (start $constants)

  ;; e^x in place for n float64 at $ptr (n rounded up to even: one float64 past an odd n is overwritten),
  ;; bit-identical to V8's Math.exp: fdlibm's reduction x = k ln2 + r (ln2 split in a high part whose
  ;; products with k are exact and a low part), its rational approximation of e^r, and its special cases
  ;; (|x| < 2^-28: 1 + x; x == 1: e; overflow to infinity; below about -745.13: 0). 2^k is applied as
  ;; 2^(k>>1) * 2^(k - (k>>1)): the first product is exact, the second rounds once, so results in the
  ;; subnormal range round as fdlibm's do. Written as one loop (not a function called per vector):
  ;; a call would spill every vector register.
  (func $expArray (export "expArray") (param $ptr i32) (param $n i32)
    (local $end i32)
    (local $x v128) (local $ax v128) (local $k v128) (local $hi v128) (local $lo v128) (local $r v128)
    (local $t v128) (local $c v128) (local $y v128) (local $k1 v128)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $n) (i32.const 3))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $ptr) (local.get $end)))
        (local.set $x (v128.load (local.get $ptr)))
        (local.set $ax (f64x2.abs (local.get $x)))
        ;; k = trunc(x / ln2 + copysign(0.5, x)); 0 where |x| <= 0.5 ln2 (fdlibm: high word <= 0x3fd62e42)
        (local.set $k
          (f64x2.trunc
            (f64x2.add
              (f64x2.mul (local.get $x) (v128.load offset=0 (i32.const 0) (;1/ln2;)))
              (v128.or (v128.load offset=16 (i32.const 0) (;0.5;))
                       (v128.and (local.get $x) (v128.load offset=32 (i32.const 0) (;sign bit;)))))))
        (local.set $k
          (v128.andnot (local.get $k)
                       (f64x2.lt (local.get $ax) (v128.load offset=48 (i32.const 0) (;~0.5 ln2;)))))
        (local.set $hi
          (f64x2.sub (local.get $x)
                     (f64x2.mul (local.get $k) (v128.load offset=64 (i32.const 0) (;ln2 high;)))))
        (local.set $lo (f64x2.mul (local.get $k) (v128.load offset=80 (i32.const 0) (;ln2 low;))))
        (local.set $r (f64x2.sub (local.get $hi) (local.get $lo)))
        (local.set $t (f64x2.mul (local.get $r) (local.get $r)))
        ;; c = r - t*(P1 + t*(P2 + t*(P3 + t*(P4 + t*P5))))
        (local.set $c
          (f64x2.sub (local.get $r)
            (f64x2.mul (local.get $t)
              (f64x2.add (v128.load offset=96 (i32.const 0) (;P1;))
                (f64x2.mul (local.get $t)
                  (f64x2.add (v128.load offset=112 (i32.const 0) (;P2;))
                    (f64x2.mul (local.get $t)
                      (f64x2.add (v128.load offset=128 (i32.const 0) (;P3;))
                        (f64x2.mul (local.get $t)
                          (f64x2.add (v128.load offset=144 (i32.const 0) (;P4;))
                            (f64x2.mul (local.get $t) (v128.load offset=160 (i32.const 0) (;P5;)))))))))))))
        ;; y = 1 - ((lo - (r*c)/(2 - c)) - hi)
        (local.set $y
          (f64x2.sub (v128.load offset=176 (i32.const 0) (;1;))
            (f64x2.sub
              (f64x2.sub (local.get $lo)
                         (f64x2.div (f64x2.mul (local.get $r) (local.get $c))
                                    (f64x2.sub (v128.load offset=192 (i32.const 0) (;2;)) (local.get $c))))
              (local.get $hi))))
        ;; y * 2^k1 * 2^(k-k1), k1 = floor(k/2) (k >> 1), each power of two built from its exponent bits:
        ;; j + 1023 + 2^52 holds j + 1023 in its low mantissa bits, which a shift by 52 moves to the exponent
        (local.set $k1 (f64x2.floor (f64x2.mul (local.get $k) (v128.load offset=16 (i32.const 0) (;0.5;)))))
        (local.set $y
          (f64x2.mul
            (f64x2.mul (local.get $y)
                       (i64x2.shl (f64x2.add (local.get $k1) (v128.load offset=208 (i32.const 0) (;2^52 + 1023;)))
                                  (i32.const 52)))
            (i64x2.shl (f64x2.add (f64x2.sub (local.get $k) (local.get $k1))
                                  (v128.load offset=208 (i32.const 0) (;2^52 + 1023;)))
                       (i32.const 52))))
        ;; special cases, in fdlibm's order of precedence (later selects win)
        (local.set $y
          (v128.bitselect (f64x2.add (v128.load offset=176 (i32.const 0) (;1;)) (local.get $x)) (local.get $y)
                          (f64x2.lt (local.get $ax) (v128.load offset=224 (i32.const 0) (;2^-28;)))))
        (local.set $y
          (v128.bitselect (v128.load offset=240 (i32.const 0) (;e;)) (local.get $y)
                          (f64x2.eq (local.get $x) (v128.load offset=176 (i32.const 0) (;1;)))))
        (local.set $y
          (v128.bitselect (v128.load offset=256 (i32.const 0) (;inf;)) (local.get $y)
                          (f64x2.gt (local.get $x) (v128.load offset=272 (i32.const 0) (;overflow threshold;)))))
        (v128.store (local.get $ptr)
          (v128.andnot (local.get $y)
                       (f64x2.lt (local.get $x) (v128.load offset=288 (i32.const 0) (;underflow threshold;)))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $next))))

  ;; recurrenceDensities(row, grid, h, out, termFloor) for k >= 2; the scalars are computed by the caller
  ;; exactly as row.ts computes them (lo = grid[0], invStep, invh = 1/h, u = step/h, halfU2 = u^2/2,
  ;; c..c16 = exp(-u^2 .. -16 u^2), norm = 1/(n h sqrt(2 pi))).
  (func (export "densities")
    (param $row i32) (param $n i32) (param $grid i32) (param $k i32) (param $out i32) (param $scratch i32)
    (param $pidx i32)
    (param $lo f64) (param $invStep f64) (param $invh f64) (param $u f64) (param $halfU2 f64)
    (param $c f64) (param $c2 f64) (param $c3 f64) (param $c4 f64) (param $c10 f64) (param $c16 f64)
    (param $floor f64) (param $norm f64)
    (local $j i32) (local $rec i32) (local $pw i32) (local $ptr i32) (local $center i32) (local $lastPtr i32)
    (local $x v128) (local $v v128) (local $ceil v128) (local $p v128) (local $pi v128) (local $t v128)
    (local $lastv v128) (local $r v128) (local $a v128) (local $b v128) (local $e v128) (local $f v128)
    (local $r2 v128) (local $qa v128) (local $qb v128) (local $qe v128) (local $qf v128)
    (local $v1 v128) (local $v2 v128) (local $q1 v128) (local $q2 v128) (local $c16v v128)
    (local $t0 f64)
    (local.set $lastPtr (i32.add (local.get $out) (i32.shl (i32.sub (local.get $k) (i32.const 1)) (i32.const 3))))
    (local.set $lastv (f64x2.splat (f64.convert_i32_s (i32.sub (local.get $k) (i32.const 1)))))
    (local.set $c16v (f64x2.splat (local.get $c16)))
    ;; out[-4 .. k+4) = 0
    (memory.fill (i32.sub (local.get $out) (i32.const 32)) (i32.const 0)
                 (i32.shl (i32.add (local.get $k) (i32.const 8)) (i32.const 3)))

    ;; pass 1, two values at a time: p, t and the arguments of the three exps
    (local.set $rec (local.get $scratch))
    (local.set $pw (local.get $pidx))
    (local.set $j (i32.const 0))
    (block $done1
      (loop $pair
        (br_if $done1 (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $x
          (f64x2.promote_low_f32x4
            (v128.load64_zero (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
        (local.set $v
          (f64x2.mul (f64x2.sub (local.get $x) (f64x2.splat (local.get $lo))) (f64x2.splat (local.get $invStep))))
        ;; p = Math.round(v) (half up: ceil(v), less 1 where ceil(v) - 0.5 > v), clamped to [0, k-1]
        (local.set $ceil (f64x2.ceil (local.get $v)))
        (local.set $p
          (f64x2.sub (local.get $ceil)
                     (v128.and (f64x2.gt (f64x2.sub (local.get $ceil) (v128.const f64x2 0.5 0.5)) (local.get $v))
                               (v128.const f64x2 1 1))))
        (local.set $p (f64x2.pmin (local.get $lastv) (f64x2.pmax (v128.const f64x2 0 0) (local.get $p))))
        (local.set $pi (i32x4.trunc_sat_f64x2_s_zero (local.get $p)))
        ;; t = (grid[p] - x) * invh
        (local.set $t
          (f64x2.mul
            (f64x2.sub
              (v128.load64_lane 1
                (i32.add (local.get $grid) (i32.shl (i32x4.extract_lane 1 (local.get $pi)) (i32.const 3)))
                (v128.load64_zero
                  (i32.add (local.get $grid) (i32.shl (i32x4.extract_lane 0 (local.get $pi)) (i32.const 3)))))
              (local.get $x))
            (f64x2.splat (local.get $invh))))
        ;; the pair's record, 48 bytes: exp arguments (right, left) of value j, of value j+1, then the
        ;; t0 arguments of both: right r0 = exp(-t * u - halfU2), left r0 = exp(t * u - halfU2),
        ;; t0 = exp(-0.5 * t * t)
        (local.set $a (f64x2.sub (f64x2.mul (f64x2.neg (local.get $t)) (f64x2.splat (local.get $u)))
                                 (f64x2.splat (local.get $halfU2))))
        (local.set $b (f64x2.sub (f64x2.mul (local.get $t) (f64x2.splat (local.get $u)))
                                 (f64x2.splat (local.get $halfU2))))
        (v128.store (local.get $rec)
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b)))
        (v128.store offset=16 (local.get $rec)
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a) (local.get $b)))
        (v128.store offset=32 (local.get $rec)
          (f64x2.mul (f64x2.mul (v128.const f64x2 -0.5 -0.5) (local.get $t)) (local.get $t)))
        (v128.store64_lane 0 (local.get $pw) (local.get $pi))
        (local.set $pw (i32.add (local.get $pw) (i32.const 8)))
        (local.set $rec (i32.add (local.get $rec) (i32.const 48)))
        (local.set $j (i32.add (local.get $j) (i32.const 2)))
        (br $pair)))
    ;; the exps, all at once: 3 per value
    (call $expArray (local.get $scratch)
                    (i32.mul (i32.add (local.get $n) (i32.and (local.get $n) (i32.const 1))) (i32.const 3)))

    ;; pass 2: the walks, value by value
    (local.set $j (i32.const 0))
    (block $done2
      (loop $value
        (br_if $done2 (i32.ge_s (local.get $j) (local.get $n)))
        ;; value j's ratios at pair + 16 (j & 1), its t0 at pair + 32 + 8 (j & 1)
        (local.set $rec (i32.add (local.get $scratch) (i32.mul (i32.shr_u (local.get $j) (i32.const 1)) (i32.const 48))))
        (local.set $t0 (f64.load offset=32
                         (i32.add (local.get $rec) (i32.shl (i32.and (local.get $j) (i32.const 1)) (i32.const 3)))))
        (local.set $r (v128.load
                        (i32.add (local.get $rec) (i32.shl (i32.and (local.get $j) (i32.const 1)) (i32.const 4)))))
        (local.set $center (i32.add (local.get $out)
                                    (i32.shl (i32.load (i32.add (local.get $pidx) (i32.shl (local.get $j) (i32.const 2))))
                                             (i32.const 3))))
        (f64.store (local.get $center) (f64.add (f64.load (local.get $center)) (local.get $t0)))
        ;; lanes (right, left): a = t0 r0; b = a r0 c; e = b r0 c2; f = e r0 c3;
        ;; qa = r0^4 c10; qb = qa c4; qe = qb c4; qf = qe c4
        (local.set $a (f64x2.mul (f64x2.splat (local.get $t0)) (local.get $r)))
        (local.set $b (f64x2.mul (f64x2.mul (local.get $a) (local.get $r)) (f64x2.splat (local.get $c))))
        (local.set $e (f64x2.mul (f64x2.mul (local.get $b) (local.get $r)) (f64x2.splat (local.get $c2))))
        (local.set $f (f64x2.mul (f64x2.mul (local.get $e) (local.get $r)) (f64x2.splat (local.get $c3))))
        (local.set $r2 (f64x2.mul (local.get $r) (local.get $r)))
        (local.set $qa (f64x2.mul (f64x2.mul (local.get $r2) (local.get $r2)) (f64x2.splat (local.get $c10))))
        (local.set $qb (f64x2.mul (local.get $qa) (f64x2.splat (local.get $c4))))
        (local.set $qe (f64x2.mul (local.get $qb) (f64x2.splat (local.get $c4))))
        (local.set $qf (f64x2.mul (local.get $qe) (f64x2.splat (local.get $c4))))

        ;; right of p: (a, b) at out[m..m+1], (e, f) at out[m+2..m+3], m = p+1, p+5, ...
        (local.set $v1 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a) (local.get $b)))
        (local.set $v2 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $e) (local.get $f)))
        (local.set $q1 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $qa) (local.get $qb)))
        (local.set $q2 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $qe) (local.get $qf)))
        (local.set $ptr (i32.add (local.get $center) (i32.const 8)))
        (block $stopR
          (loop $walkR
            ;; ptr = &out[m]
            (br_if $stopR (i32.gt_u (local.get $ptr) (local.get $lastPtr)))
            (br_if $stopR (f64.lt (f64x2.extract_lane 0 (local.get $v1)) (local.get $floor)))
            (v128.store (local.get $ptr) (f64x2.add (v128.load (local.get $ptr)) (local.get $v1)))
            (v128.store offset=16 (local.get $ptr) (f64x2.add (v128.load offset=16 (local.get $ptr)) (local.get $v2)))
            (local.set $v1 (f64x2.mul (local.get $v1) (local.get $q1)))
            (local.set $v2 (f64x2.mul (local.get $v2) (local.get $q2)))
            (local.set $q1 (f64x2.mul (local.get $q1) (local.get $c16v)))
            (local.set $q2 (f64x2.mul (local.get $q2) (local.get $c16v)))
            (local.set $ptr (i32.add (local.get $ptr) (i32.const 32)))
            (br $walkR)))

        ;; left of p, the mirror image: (b, a) at out[m-1..m], (f, e) at out[m-3..m-2], m = p-1, p-5, ...
        (local.set $v1 (i8x16.shuffle 24 25 26 27 28 29 30 31 8 9 10 11 12 13 14 15 (local.get $a) (local.get $b)))
        (local.set $v2 (i8x16.shuffle 24 25 26 27 28 29 30 31 8 9 10 11 12 13 14 15 (local.get $e) (local.get $f)))
        (local.set $q1 (i8x16.shuffle 24 25 26 27 28 29 30 31 8 9 10 11 12 13 14 15 (local.get $qa) (local.get $qb)))
        (local.set $q2 (i8x16.shuffle 24 25 26 27 28 29 30 31 8 9 10 11 12 13 14 15 (local.get $qe) (local.get $qf)))
        (local.set $ptr (i32.sub (local.get $center) (i32.const 16)))
        (block $stopL
          (loop $walkL
            ;; ptr = &out[m-1]; m >= 0 <=> ptr >= out - 8
            (br_if $stopL (i32.lt_u (local.get $ptr) (i32.sub (local.get $out) (i32.const 8))))
            (br_if $stopL (f64.lt (f64x2.extract_lane 1 (local.get $v1)) (local.get $floor)))
            (v128.store (local.get $ptr) (f64x2.add (v128.load (local.get $ptr)) (local.get $v1)))
            (v128.store (i32.sub (local.get $ptr) (i32.const 16))
                        (f64x2.add (v128.load (i32.sub (local.get $ptr) (i32.const 16))) (local.get $v2)))
            (local.set $v1 (f64x2.mul (local.get $v1) (local.get $q1)))
            (local.set $v2 (f64x2.mul (local.get $v2) (local.get $q2)))
            (local.set $q1 (f64x2.mul (local.get $q1) (local.get $c16v)))
            (local.set $q2 (f64x2.mul (local.get $q2) (local.get $c16v)))
            (local.set $ptr (i32.sub (local.get $ptr) (i32.const 32)))
            (br $walkL)))

        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $value)))

    ;; out *= norm (out[k] is padding when k is odd)
    (local.set $ptr (local.get $out))
    (local.set $v (f64x2.splat (local.get $norm)))
    (block $done3
      (loop $scale
        (br_if $done3 (i32.gt_u (local.get $ptr) (local.get $lastPtr)))
        (v128.store (local.get $ptr) (f64x2.mul (v128.load (local.get $ptr)) (local.get $v)))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
        (br $scale))))
;; hermite-densities.ts's expansion (hermiteDensities there, the same operations but for the order of
  ;; the power products and of the dot products' sums: not bit-identical to it, both within the same
  ;; error bound). Memory, laid out by the caller: row (n float32), mom (cells*P float64, zeroed here),
  ;; tab ((R+1)*P float64), inv (1/q at inv + 8q, q = 1..P), out ((k + 2 pad) float64, zeroed here,
  ;; density i at out + 8 (pad + i), pad = R + L; not yet multiplied by the norm). P is even.
  (func (export "hermite")
    (param $row i32) (param $n i32) (param $k i32) (param $mom i32) (param $tab i32) (param $inv i32) (param $out i32)
    (param $lo f64) (param $invStep f64) (param $step f64) (param $invh f64) (param $u f64)
    (param $a i32) (param $L i32) (param $P i32) (param $R i32) (param $cells i32)
    (param $rm f64) (param $ratio f64)
    (local $j i32) (local $base i32) (local $q i32) (local $m i32) (local $g i32) (local $c i32) (local $z i32)
    (local $mMax i32) (local $at i32) (local $rowBytes i32) (local $ptr i32) (local $end i32)
    (local $x f64) (local $d f64) (local $p f64) (local $cf f64) (local $lastF f64) (local $invL f64)
    (local $y f64) (local $cm f64) (local $g0 f64) (local $g1 f64) (local $g2 f64) (local $e f64) (local $od f64)
    (local $w v128) (local $d2 v128) (local $acc v128) (local $acc1 v128) (local $mv v128) (local $p1 i32)
    (local.set $rowBytes (i32.shl (local.get $P) (i32.const 3)))
    (local.set $lastF (f64.convert_i32_s (i32.sub (local.get $k) (i32.const 1))))
    (local.set $invL (f64.div (f64.const 1) (f64.convert_i32_s (local.get $L))))
    (memory.fill (local.get $mom) (i32.const 0) (i32.mul (local.get $cells) (local.get $rowBytes)))
    (memory.fill (local.get $out) (i32.const 0)
                 (i32.shl (i32.add (local.get $k)
                                   (i32.shl (i32.add (local.get $R) (local.get $L)) (i32.const 1)))
                          (i32.const 3)))

    ;; moments: M[c][q] += delta^q, two powers per vector: (d^2i, d^2i+1)
    (local.set $j (i32.const 0))
    (block $doneM
      (loop $value
        (br_if $doneM (i32.ge_s (local.get $j) (local.get $n)))
        (local.set $x (f64.promote_f32 (f32.load (i32.add (local.get $row) (i32.shl (local.get $j) (i32.const 2))))))
        ;; p = floor((x - lo) invStep + 0.5) clamped to [0, k-1]; c = floor((p + 0.5) / L)
        (local.set $p (f64.floor (f64.add (f64.mul (f64.sub (local.get $x) (local.get $lo)) (local.get $invStep))
                                          (f64.const 0.5))))
        (local.set $p (f64.min (local.get $lastF) (f64.max (f64.const 0) (local.get $p))))
        (local.set $cf (f64.floor (f64.mul (f64.add (local.get $p) (f64.const 0.5)) (local.get $invL))))
        ;; d = (x - lo - (c L + a) step) invh
        (local.set $d
          (f64.mul
            (f64.sub (f64.sub (local.get $x) (local.get $lo))
                     (f64.mul (f64.add (f64.mul (local.get $cf) (f64.convert_i32_s (local.get $L)))
                                       (f64.convert_i32_s (local.get $a)))
                              (local.get $step)))
            (local.get $invh)))
        (local.set $base (i32.add (local.get $mom) (i32.mul (i32.trunc_f64_u (local.get $cf)) (local.get $rowBytes))))
        (local.set $end (i32.add (local.get $base) (local.get $rowBytes)))
        (local.set $w (f64x2.replace_lane 1 (f64x2.splat (f64.const 1)) (local.get $d)))
        (local.set $d2 (f64x2.splat (f64.mul (local.get $d) (local.get $d))))
        (loop $power
          (v128.store (local.get $base) (f64x2.add (v128.load (local.get $base)) (local.get $w)))
          (local.set $w (f64x2.mul (local.get $w) (local.get $d2)))
          (local.set $base (i32.add (local.get $base) (i32.const 16)))
          (br_if $power (i32.lt_u (local.get $base) (local.get $end))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $value)))

    ;; the table: tab[m][q] = exp(-y^2/2) He_q(y) / q!, y = m u; g_{q+1} = (y g_q - g_{q-1}) / (q+1)
    (local.set $cm (f64.const 1))
    (local.set $m (i32.const 0))
    (local.set $g (local.get $tab))
    (block $doneT
      (loop $point
        (br_if $doneT (i32.gt_s (local.get $m) (local.get $R)))
        (local.set $y (f64.mul (f64.convert_i32_s (local.get $m)) (local.get $u)))
        (local.set $g0 (local.get $cm))
        (local.set $g1 (f64.mul (local.get $y) (local.get $cm)))
        (f64.store (local.get $g) (local.get $g0))
        (f64.store offset=8 (local.get $g) (local.get $g1))
        (local.set $q (i32.const 2))
        (block $doneQ
          (loop $term
            (br_if $doneQ (i32.ge_s (local.get $q) (local.get $P)))
            (local.set $g2 (f64.mul (f64.sub (f64.mul (local.get $y) (local.get $g1)) (local.get $g0))
                                    (f64.load (i32.add (local.get $inv) (i32.shl (local.get $q) (i32.const 3))))))
            (f64.store (i32.add (local.get $g) (i32.shl (local.get $q) (i32.const 3))) (local.get $g2))
            (local.set $g0 (local.get $g1))
            (local.set $g1 (local.get $g2))
            (local.set $q (i32.add (local.get $q) (i32.const 1)))
            (br $term)))
        (local.set $cm (f64.mul (local.get $cm) (local.get $rm)))
        (local.set $rm (f64.mul (local.get $rm) (local.get $ratio)))
        (local.set $g (i32.add (local.get $g) (local.get $rowBytes)))
        (local.set $m (i32.add (local.get $m) (i32.const 1)))
        (br $point)))

    ;; cells: out[z + m] += sum_q tab[m][q] M[q], out[z - m] the same with odd q negated
    (local.set $c (i32.const 0))
    (block $doneC
      (loop $cell
        (br_if $doneC (i32.ge_s (local.get $c) (local.get $cells)))
        (local.set $base (i32.add (local.get $mom) (i32.mul (local.get $c) (local.get $rowBytes))))
        (if (f64.ne (f64.load (local.get $base)) (f64.const 0))
          (then
            (local.set $z (i32.add (i32.mul (local.get $c) (local.get $L)) (local.get $a)))
            ;; mMax = max(min(R, z), min(R, k - 1 - z))
            (local.set $mMax (select (local.get $R) (local.get $z) (i32.lt_s (local.get $R) (local.get $z))))
            (local.set $m (i32.sub (i32.sub (local.get $k) (i32.const 1)) (local.get $z)))
            (local.set $m (select (local.get $R) (local.get $m) (i32.lt_s (local.get $R) (local.get $m))))
            (local.set $mMax (select (local.get $m) (local.get $mMax) (i32.gt_s (local.get $m) (local.get $mMax))))
            (local.set $at (i32.add (local.get $out)
                                    (i32.shl (i32.add (i32.add (local.get $R) (local.get $L)) (local.get $z)) (i32.const 3))))
            (local.set $end (i32.add (local.get $base) (local.get $rowBytes)))
            ;; m = 0: the odd terms vanish (He_odd(0) = 0)
            (local.set $acc (v128.const f64x2 0 0))
            (local.set $q (local.get $base))
            (local.set $ptr (local.get $tab))
            (loop $dot0
              (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (local.get $ptr)) (v128.load (local.get $q)))))
              (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
              (local.set $q (i32.add (local.get $q) (i32.const 16)))
              (br_if $dot0 (i32.lt_u (local.get $q) (local.get $end))))
            (f64.store (local.get $at)
                       (f64.add (f64.load (local.get $at))
                                (f64.add (f64x2.extract_lane 0 (local.get $acc)) (f64x2.extract_lane 1 (local.get $acc)))))
            ;; m, m+1 together: the moments loaded once for two rows of the table, two independent sums
            (local.set $m (i32.const 1))
            (block $doneW2
              (loop $window2
                (br_if $doneW2 (i32.ge_s (local.get $m) (local.get $mMax)))
                (local.set $acc (v128.const f64x2 0 0))
                (local.set $acc1 (v128.const f64x2 0 0))
                (local.set $q (local.get $base))
                (local.set $p1 (i32.add (local.get $ptr) (local.get $rowBytes)))
                (loop $dot2
                  (local.set $mv (v128.load (local.get $q)))
                  (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (local.get $ptr)) (local.get $mv))))
                  (local.set $acc1 (f64x2.add (local.get $acc1) (f64x2.mul (v128.load (local.get $p1)) (local.get $mv))))
                  (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
                  (local.set $p1 (i32.add (local.get $p1) (i32.const 16)))
                  (local.set $q (i32.add (local.get $q) (i32.const 16)))
                  (br_if $dot2 (i32.lt_u (local.get $q) (local.get $end))))
                (local.set $ptr (local.get $p1))
                (local.set $e (f64x2.extract_lane 0 (local.get $acc)))
                (local.set $od (f64x2.extract_lane 1 (local.get $acc)))
                (local.set $g (i32.add (local.get $at) (i32.shl (local.get $m) (i32.const 3))))
                (f64.store (local.get $g) (f64.add (f64.load (local.get $g)) (f64.add (local.get $e) (local.get $od))))
                (local.set $g (i32.sub (local.get $at) (i32.shl (local.get $m) (i32.const 3))))
                (f64.store (local.get $g) (f64.add (f64.load (local.get $g)) (f64.sub (local.get $e) (local.get $od))))
                (local.set $e (f64x2.extract_lane 0 (local.get $acc1)))
                (local.set $od (f64x2.extract_lane 1 (local.get $acc1)))
                (local.set $g (i32.add (local.get $at) (i32.shl (i32.add (local.get $m) (i32.const 1)) (i32.const 3))))
                (f64.store (local.get $g) (f64.add (f64.load (local.get $g)) (f64.add (local.get $e) (local.get $od))))
                (local.set $g (i32.sub (local.get $at) (i32.shl (i32.add (local.get $m) (i32.const 1)) (i32.const 3))))
                (f64.store (local.get $g) (f64.add (f64.load (local.get $g)) (f64.sub (local.get $e) (local.get $od))))
                (local.set $m (i32.add (local.get $m) (i32.const 2)))
                (br $window2)))
            ;; the last m when the window's length is odd
            (if (i32.eq (local.get $m) (local.get $mMax))
              (then
                (local.set $acc (v128.const f64x2 0 0))
                (local.set $q (local.get $base))
                (loop $dot
                  (local.set $acc (f64x2.add (local.get $acc) (f64x2.mul (v128.load (local.get $ptr)) (v128.load (local.get $q)))))
                  (local.set $ptr (i32.add (local.get $ptr) (i32.const 16)))
                  (local.set $q (i32.add (local.get $q) (i32.const 16)))
                  (br_if $dot (i32.lt_u (local.get $q) (local.get $end))))
                (local.set $e (f64x2.extract_lane 0 (local.get $acc)))
                (local.set $od (f64x2.extract_lane 1 (local.get $acc)))
                (local.set $g (i32.add (local.get $at) (i32.shl (local.get $m) (i32.const 3))))
                (f64.store (local.get $g) (f64.add (f64.load (local.get $g)) (f64.add (local.get $e) (local.get $od))))
                (local.set $g (i32.sub (local.get $at) (i32.shl (local.get $m) (i32.const 3))))
                (f64.store (local.get $g) (f64.add (f64.load (local.get $g)) (f64.sub (local.get $e) (local.get $od))))))))
        (local.set $c (i32.add (local.get $c) (i32.const 1)))
        (br $cell))))
)
