//! Block Kit views the bot shows: the App Home and the help card. Kept apart from the
//! handlers so the layout can be read (and tested) on its own.

use slack_morphism::prelude::*;

/// The Home tab of one member.
pub fn home(user: &SlackUserId) -> SlackView {
    let blocks: Vec<SlackBlock> = vec![
        SlackHeaderBlock::new(pt!("Your async week")).into(),
        SlackSectionBlock::new()
            .with_text(md!(
                "Hi <@{}>! I help this workspace keep the norms of asynchronous work: nobody is \
                 expected to answer outside their working hours, *urgent* means urgent, and \
                 status meetings become written check-ins.",
                user
            ))
            .into(),
        SlackContextBlock::new(vec![SlackContextBlockElement::MarkDown(
            SlackBlockMarkDownText::new(
                "Type `/async help` in any channel to see what I can do.".into(),
            ),
        )])
        .into(),
    ];
    SlackView::Home(SlackHomeView::new(blocks))
}
