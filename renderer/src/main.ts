import { mount } from 'svelte';
import App from '../components/App.svelte';
import { connectBridge } from '../lib/bridge';
import { Conversation } from '../lib/state/Conversation.svelte';
import { SettingsState } from '../lib/state/Settings.svelte';
import { HistoryState } from '../lib/state/History.svelte';
import { MeetingState } from '../lib/state/Meeting.svelte';
import './styles.css';

const target = document.getElementById('app');
if (target === null) throw new Error('index.html is missing #app');
const bridge = connectBridge();
mount(App, { target, props: { conversation: new Conversation(bridge), settings: new SettingsState(bridge), history: new HistoryState(bridge), meeting: new MeetingState(bridge) } });
