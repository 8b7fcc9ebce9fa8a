//! Property tests of the microcontroller image store layout: whatever the flash holds, reading
//! it never panics and never hands out an image whose CRC does not check; records round-trip.

use hsx_exec::flash_slots::{BootRecord, FlashSlots};
use hsx_exec::store::Slot;
use proptest::prelude::*;

fn slot() -> impl Strategy<Value = Option<Slot>> {
    prop_oneof![Just(None), Just(Some(Slot::A)), Just(Some(Slot::B))]
}

proptest! {
    #[test]
    fn arbitrary_flash_contents_are_read_safely(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = FlashSlots::record(&bytes);
        if let Some(fs) = FlashSlots::new(bytes.len()) {
            let plan = fs.boot_plan(&bytes);
            if let Some(s) = plan.start {
                let image = fs.image(&bytes, s);
                prop_assert!(image.is_some());
                prop_assert!(image.unwrap().len() <= fs.capacity());
            }
        }
    }

    #[test]
    fn records_round_trip_and_the_newest_wins(
        active in slot(), trial in any::<bool>(), writes in any::<[u32; 2]>(), seq in any::<u32>(), n in 1usize..5,
    ) {
        let mut region = vec![0xFFu8; 512];
        let mut rec = BootRecord { seq, active, trial, writes };
        for _ in 0..n {
            rec = FlashSlots::write_record(&mut region, rec);
            prop_assert_eq!(FlashSlots::record(&region), rec);
        }
    }

    #[test]
    fn sealed_images_read_back_and_any_flipped_bit_is_refused(
        image in proptest::collection::vec(any::<u8>(), 1..200), flip in any::<proptest::sample::Index>(),
    ) {
        let mut region = vec![0xFFu8; 1024];
        let fs = FlashSlots::new(region.len()).unwrap();
        let body = fs.body(Slot::B);
        region[body.start..body.start + image.len()].copy_from_slice(&image);
        fs.seal(&mut region, Slot::B, image.len());
        prop_assert_eq!(fs.image(&region, Slot::B), Some(&image[..]));
        let at = body.start + flip.index(image.len());
        region[at] ^= 0x10;
        prop_assert_eq!(fs.image(&region, Slot::B), None);
    }
}
