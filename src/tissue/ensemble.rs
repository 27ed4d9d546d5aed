//! A [`TissueSim`] as an ensemble (layer 3): copies of the tissue side by side in every buffer
//! and texture layer, advanced together by [`TissueSim::step_members`], each member with its own
//! drugs, descending switches and inputs; a one-member tissue follows a member's clock (the
//! device copy of its cells, which names wgpu, is `TissueSim::copy_member_into` in mod.rs);
//! src/run/ensemble.rs drives both.

use super::TissueSim;
use crate::error::Error;
use crate::gpu::Gpu;
use crate::gpu::reaction::STATE_STRIDE;
use crate::model::network::Model;
use crate::scenario::dorsal_horn::TransportScheme;

impl TissueSim {
    /// This tissue as an ensemble of `members` copies side by side, each starting from its
    /// current state: every dispatch of a step advances all of them, each with its own inputs,
    /// drugs and descending switches ([`TissueSim::step_members`]). Implicit transport only; the
    /// probes and read-outs work on one-member tissues ([`TissueSim::copy_member_into`]). A
    /// member's steps are bit-identical to those the tissue would take alone.
    pub fn into_ensemble(self, gpu: &Gpu, members: usize) -> Result<TissueSim, Error> {
        if self.scheme != TransportScheme::Implicit {
            return Err(Error::Output(
                "only the implicit transport runs as an ensemble".into(),
            ));
        }
        let one: Vec<[f32; STATE_STRIDE]> = self
            .read_states(gpu)?
            .chunks_exact(STATE_STRIDE)
            .map(|c| c.try_into().expect("STATE_STRIDE floats"))
            .collect();
        let states: Vec<[f32; STATE_STRIDE]> =
            (0..members).flat_map(|_| one.iter().copied()).collect();
        TissueSim::build(gpu, self.layout, self.model, &states, self.scheme, members)
    }

    /// Copies of the tissue side by side (1 unless [`TissueSim::into_ensemble`]).
    pub fn members(&self) -> usize {
        self.members
    }

    /// Member `member`'s drugs and descending switches (the model's), as
    /// [`TissueSim::set_model`] does for a one-member tissue.
    pub fn set_member_model(&mut self, gpu: &Gpu, member: usize, model: &Model) {
        if self.members == 1 {
            self.set_model(gpu, model);
        } else {
            self.reaction.set_member_drugs(gpu, member, model);
        }
    }

    /// Takes the clock, counters and history length of `other` (the ensemble a one-member
    /// tissue stands for), as if this tissue had taken its steps.
    pub fn follow(&mut self, other: &TissueSim) {
        self.time_s = other.time_s;
        self.transport_steps = other.transport_steps;
        self.reaction_substeps = other.reaction_substeps;
        self.stencil_passes = other.stencil_passes;
        self.explicit_passes = other.explicit_passes;
        self.dispatches = other.dispatches;
        self.previous_dt = other.previous_dt;
    }
}
